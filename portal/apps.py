from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        # The notification restriction. Every app's audit.py declares its audit actions in the one
        # registry (portal.audit); every app's tasks.py declares its Celery tasks and outbox jobs,
        # imported here in every process (web, worker, beat), because the web process publishes the
        # outbox rows' tasks and Celery's own autodiscovery runs only in the worker.
        from django.utils.module_loading import autodiscover_modules

        from .api import notifications  # noqa: F401

        autodiscover_modules("audit")
        autodiscover_modules("tasks")
