"""Celery tasks of delegations: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(name="delegations.tasks.delegation_process_expiries")
def delegation_process_expiries() -> dict:
    """Beat, every 15 minutes: record expiries and warn 7 days before the end (DLG-5, DLG-6)."""
    return services.delegation_process_expiries()
