from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

EXPIRY_JOB = "delegations-process-expiries"


class DelegationsConfig(AppConfig):
    name = "delegations"
    verbose_name = _("Delegations")

    def ready(self):
        # The tenancy restriction, notification kinds, the archive hook and the Celery task.
        from . import notifications, selectors, services, tasks  # noqa: F401
        from portal.celery import app

        # DLG-5/6: record expiries and send the 7-day warnings (idempotent, so running often is fine).
        app.conf.beat_schedule[EXPIRY_JOB] = {
            "task": "delegations.tasks.delegation_process_expiries",
            "schedule": timedelta(minutes=15),
        }
