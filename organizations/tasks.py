"""Celery tasks of organizations: thin wrappers around services."""

from celery import shared_task

from .services import invitations


@shared_task(name="organizations.tasks.invitation_expire_due")
def invitation_expire_due() -> int:
    """Beat, every 15 minutes: record expiries of pending invitations (ORG-5). Reads never wait for it."""
    return invitations.invitation_expire_due()
