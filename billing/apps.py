from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

SUBSCRIPTION_JOB = "billing-process-subscriptions"


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from portal.celery import app
        from portal.hooks import on

        from . import selectors, services, tasks  # noqa: F401 - the tenancy restriction and the tasks

        # Contracts with other apps (portal/hooks.py): BIL-2 trial, OFR-6 provisioning, ORG-3/ORG-7 ends.
        on("organization.created")(services.trial_start)
        on("offer.accepted")(services.subscriptions_from_offer)
        on("customer_relation.ended")(services.subscriptions_end_for_relation)
        on("organization.archived")(services.subscriptions_end_for_archived_org)

        # BIL-2: record trial expiries and start renewal terms (reads never wait for it).
        app.conf.beat_schedule[SUBSCRIPTION_JOB] = {
            "task": "billing.tasks.subscriptions_process_due",
            "schedule": timedelta(minutes=30),
        }
