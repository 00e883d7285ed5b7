from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers")

    def ready(self):
        # Tenancy restrictions, notification kinds, outbox handlers and the relation-ended hook.
        from . import notifications, selectors, services  # noqa: F401
