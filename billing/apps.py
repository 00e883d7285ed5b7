from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # Invoicing: outbox handler, email attachment loader, restrictions and the beat task.
        from . import invoice_selectors, invoice_tasks, invoicing  # noqa: F401
