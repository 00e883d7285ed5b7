"""Celery tasks of the portal: the outbox's own upkeep and the email jobs every app uses."""

from celery import shared_task

from . import emails
from .outbox import outbox_purge_finished, outbox_sweep_due, outbox_task


@outbox_task(emails.EMAIL_KIND, name="portal.tasks.email_send")
def email_send(payload: dict) -> None:
    """Render a templated email in the recipient's language and send it (`emails.email_enqueue`)."""
    emails.email_send(payload)


@outbox_task(emails.RENDERED_EMAIL_KIND, name="portal.tasks.email_send_rendered")
def email_send_rendered(payload: dict) -> None:
    """Send an email whose text was rendered when it was queued (`emails.email_enqueue_rendered`)."""
    emails.email_send_rendered(payload)


@shared_task(name="portal.tasks.outbox_sweep")
def outbox_sweep() -> int:
    """Beat, every `OUTBOX_SWEEP_SECONDS`: release rows of dead workers, re-publish what is due."""
    return outbox_sweep_due()


@shared_task(name="portal.tasks.outbox_purge")
def outbox_purge() -> int:
    """Beat, daily: delete finished outbox rows older than `OUTBOX_RETENTION_DAYS`."""
    return outbox_purge_finished()
