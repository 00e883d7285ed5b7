"""Celery tasks of invoicing: thin wrappers around `billing.invoicing` (PLT-3)."""

from celery import shared_task

from .invoicing import invoice_monthly_run as run


@shared_task(name="billing.invoice_tasks.invoice_monthly_run")
def invoice_monthly_run() -> int:
    """Beat, 1st of each month: issue last month's invoices (idempotent, safe to repeat)."""
    return run()
