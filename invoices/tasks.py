"""Celery tasks of invoicing: thin wrappers around `invoices.services.issuing` (PLT-3)."""

from celery import shared_task

from portal.outbox import outbox_task

from .services import issuing
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


@outbox_task(PDF_KIND, name="invoices.tasks.invoice_pdf_render")
def invoice_pdf_render(payload: dict) -> None:
    """Issue 13: render a PDF asked for on a page/API before delivery made it (never in a request)."""
    issuing.invoice_pdf_job(payload)
