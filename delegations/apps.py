from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

EXPIRY_JOB = "delegations-process-expiries"


class DelegationsConfig(AppConfig):
    name = "delegations"
    verbose_name = _("Delegations")

    def ready(self):
        # The tenancy restriction, notification kinds, the archive hook and the Celery task.
        from portal.celery import app

        from . import notifications, selectors, services, tasks  # noqa: F401

        # DLG-1: incoming and outgoing requests on the shared "Open requests" page, where it exists.
        try:
            from organizations.open_requests import open_request_section
        except ImportError:  # the page belongs to the organizations app
            open_request_section = None
        if open_request_section is not None:
            open_request_section(
                key="delegations",
                template="delegations/_open_requests.html",
                context=selectors.delegation_open_requests_section,
                count=selectors.delegation_requests_awaiting,
            )

        # DLG-5/6: record expiries and send the 7-day warnings (idempotent, so running often is fine).
        app.conf.beat_schedule[EXPIRY_JOB] = {
            "task": "delegations.tasks.delegation_process_expiries",
            "schedule": timedelta(minutes=15),
        }
