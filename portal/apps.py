from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        # Register the outbox handlers and the notification restriction.
        # Every app's audit.py declares its audit actions in the one registry (portal.audit).
        from django.utils.module_loading import autodiscover_modules

        from . import emails  # noqa: F401
        from .api import notifications  # noqa: F401

        autodiscover_modules("audit")
