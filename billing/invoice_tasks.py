"""Celery tasks of invoicing: thin wrappers around `billing.invoicing` (PLT-3)."""

from celery import shared_task

from portal.outbox import outbox_task

from . import invoicing
from .invoicing import DELIVER_KIND
from .invoicing import invoice_monthly_run as run


@shared_task(name="billing.invoice_tasks.invoice_monthly_run")
def invoice_monthly_run() -> int:
    """Beat, 1st of each month: issue last month's invoices (idempotent, safe to repeat)."""
    return run()


@outbox_task(DELIVER_KIND, name="billing.invoice_tasks.invoice_deliver")
def invoice_deliver(payload: dict) -> None:
    """BIL-5: render an issued invoice's PDF once and queue its email."""
    invoicing.invoice_deliver(payload)
