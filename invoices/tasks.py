"""Celery tasks of invoicing: thin wrappers around `invoices.services.issuing` (PLT-3)."""

from celery import shared_task

from portal.outbox import outbox_task

from .services import dunning, issuing
from .services.issuing import DELIVER_KIND, PDF_KIND
from .services.issuing import invoice_monthly_run as run


@shared_task(name="invoices.tasks.invoice_monthly_run")
def invoice_monthly_run() -> int:
    """Beat, 1st of each month: issue last month's invoices (idempotent, safe to repeat)."""
    return run()


@outbox_task(DELIVER_KIND, name="invoices.tasks.invoice_deliver")
def invoice_deliver(payload: dict) -> None:
    """BIL-5: render an issued invoice's PDF once and queue its email."""
    issuing.invoice_deliver(payload)


@shared_task(name="invoices.tasks.dunning_run")
def dunning_run() -> tuple[int, int]:
    """Beat, daily: mark overdue invoices and queue the payment reminders due (idempotent)."""
    return dunning.dunning_run()


@outbox_task(dunning.REMINDER_KIND, name="invoices.tasks.invoice_reminder_send")
def invoice_reminder_send(payload: dict) -> None:
    """Email one payment reminder, unless the invoice was paid since it was queued."""
    dunning.invoice_reminder_send(payload)


@outbox_task(PDF_KIND, name="invoices.tasks.invoice_pdf_render")
def invoice_pdf_render(payload: dict) -> None:
    """Issue 13: render a PDF asked for on a page/API before delivery made it (never in a request)."""
    issuing.invoice_pdf_job(payload)
