"""Celery tasks of invoicing: thin wrappers around `invoices.services.issuing` (PLT-3).

The task keeps the name it had under billing: queued messages and the beat entry use it."""

from celery import shared_task

from .services.issuing import invoice_monthly_run as run


@shared_task(name="billing.invoice_tasks.invoice_monthly_run")
def invoice_monthly_run() -> int:
    """Beat, 1st of each month: issue last month's invoices (idempotent, safe to repeat)."""
    return run()
