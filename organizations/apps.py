from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

INVITATION_EXPIRY_JOB = "organizations-invitation-expiry"


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organizations and accounts")

    def ready(self):
        # ORG-5: tenancy restrictions of members and invitations, the invitation email's outbox
        # handler and the periodic expiry job.
        from datetime import timedelta

        from portal.celery import app

        from . import invitation_emails, selectors, tasks  # noqa: F401

        app.conf.beat_schedule[INVITATION_EXPIRY_JOB] = {
            "task": "organizations.tasks.invitation_expire_due",
            "schedule": timedelta(minutes=15),
        }
