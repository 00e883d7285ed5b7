"""Celery tasks of organizations: thin wrappers around services."""

from celery import shared_task

from portal.outbox import outbox_task

from . import invitation_emails
from .invitation_emails import INVITATION_EMAIL_KIND
from .services import customer_export, invitations


@shared_task(name="organizations.tasks.invitation_expire_due")
def invitation_expire_due() -> int:
    """Beat, every 15 minutes: record expiries of pending invitations (ORG-5). Reads never wait for it."""
    return invitations.invitation_expire_due()


@outbox_task(INVITATION_EMAIL_KIND, name="organizations.tasks.invitation_email_send")
def invitation_email_send(payload: dict) -> None:
    """ORG-5: send one invitation email (nothing for an invitation that no longer waits)."""
    invitation_emails.invitation_email_send(payload)


@outbox_task(
    customer_export.EXPORT_KIND,
    name="organizations.tasks.customer_export_render",
    on_failed=customer_export.customer_export_failed,
)
def customer_export_render(payload: dict) -> None:
    """Issue 16: write one export of the customer table to private storage (never in a request)."""
    customer_export.customer_export_job(payload)


@shared_task(name="organizations.tasks.customer_export_purge")
def customer_export_purge() -> int:
    """Beat, daily: delete customer exports older than CUSTOMER_EXPORT_RETENTION_DAYS."""
    return customer_export.customer_export_purge()
