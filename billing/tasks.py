"""Celery tasks of billing (subscriptions part): thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(name="billing.tasks.subscriptions_process_due")
def subscriptions_process_due() -> dict:
    """Beat, every 30 minutes: record trial and term expiries, start renewal terms (BIL-2).

    Reads never depend on it: an expired trial stops counting at its end (`in_force`)."""
    return services.subscriptions_process_due()


@shared_task(name="billing.tasks.subscription_flags_refresh")
def subscription_flags_refresh() -> int:
    """Beat, every minute: the customer table's stored subscription flags of the organizations
    whose subscriptions changed or whose flags' time has passed (issue 13/16)."""
    return services.subscription_flags_refresh()


@shared_task(name="billing.tasks.subscription_flags_reconcile")
def subscription_flags_reconcile() -> int:
    """Beat, daily: every organization's stored subscription flags computed again (a safety net)."""
    return services.subscription_flags_reconcile()
