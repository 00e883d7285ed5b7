"""PLT-3 for invoices: delivery is an outbox row, so Redis being down at commit loses nothing."""

from __future__ import annotations

import pytest
from django.core import mail

from invoices.models import Invoice
from portal.models import OutboxMessage
from portal.outbox import outbox_sweep_due

from .factories import customer, issue, line


@pytest.mark.django_db(transaction=True)
def test_invoices_issued_while_redis_is_down_are_delivered_by_the_sweeper(settings, media_roots, monkeypatch):
    from invoices import tasks as invoice_tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(invoice_tasks.invoice_deliver, "apply_async", broker_down)
    recipient = customer(billing_email="rechnung@direkt.example")
    [invoice] = issue(line(recipient))  # commits; publishing fails quietly

    [pending] = OutboxMessage.objects.filter(kind="billing.invoice_deliver")
    assert pending.status == OutboxMessage.Status.PENDING and not mail.outbox

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the sweeper runs the rows in process
    outbox_sweep_due()  # delivery: PDF stored, email queued
    outbox_sweep_due()  # the email itself
    assert [email.to for email in mail.outbox] == [["rechnung@direkt.example"]]
    assert Invoice.objects.get(pk=invoice.pk).pdf
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.DONE}
