from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # Importing registers: the tenancy restrictions (selectors) and the hooks of BIL-2 trial, OFR-6
        # provisioning and ORG-3/ORG-7 ends (`@on` in services); the app's tasks.py is found by
        # `PortalConfig.ready`.
        from . import selectors, services  # noqa: F401
