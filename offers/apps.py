from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers")

    def ready(self):
        # Tenancy restrictions, notification kinds, outbox handlers and the relation-ended hook.
        from . import notifications, selectors, services  # noqa: F401
        from .support import support_group_sync

        # OFR-1: the Support group maintains the catalog in the admin.
        post_migrate.connect(support_group_sync, sender=self, dispatch_uid="offers-support-group")
