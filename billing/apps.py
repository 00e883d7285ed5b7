from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # Importing registers: the tenancy restrictions (selectors), the hooks of BIL-2 trial, OFR-6
        # provisioning and ORG-3/ORG-7 ends (`@on` in services), the invoice email attachment
        # loader (invoicing) and the invoice jobs (invoice_tasks; the other apps' tasks.py are
        # found by `PortalConfig.ready`).
        from . import invoice_selectors, invoice_tasks, invoicing, selectors, services  # noqa: F401
