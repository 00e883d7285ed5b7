from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    """Invoices, their numbering and payment methods (BIL-5, BIL-6, BIL-7).

    Downstream of billing: the monthly run invoices the lines the subscriptions produce
    (`billing.selectors.billable_lines`); billing never imports this app."""

    name = "invoices"
    verbose_name = _("Invoices")

    def ready(self):
        from . import selectors, tasks  # noqa: F401 - the tenancy restrictions and the beat task
        from .services import issuing  # noqa: F401 - the outbox handler and the email attachment loader
