from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers")

    def ready(self):
        # Importing registers the tenancy restrictions, the notification kinds and the relation-ended hook.
        from . import notifications, selectors, services  # noqa: F401
