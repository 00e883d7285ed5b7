"""Celery tasks of billing (subscriptions part): thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(name="billing.tasks.subscriptions_process_due")
def subscriptions_process_due() -> dict:
    """Beat, every 30 minutes: record trial and term expiries, start renewal terms (BIL-2).

    Reads never depend on it: an expired trial stops counting at its end (`in_force`)."""
    return services.subscriptions_process_due()
