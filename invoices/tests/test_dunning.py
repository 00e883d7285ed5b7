"""Issue 15, dunning: overdue marking, one reminder per invoice and level through the outbox and a
real worker, paid and credited invoices never reminded."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest
from django.core import mail
from django.utils import timezone

from invoices.models import Invoice, InvoiceReminder
from invoices.services.credit_notes import credit_note_issue
from invoices.services.dunning import REMINDER_KIND, dunning_run, invoice_mark_paid, invoices_mark_overdue
from organizations.models import AuditEvent
from organizations.roles import OrgRole
from portal.errors import Conflict
from portal.models import OutboxMessage
from tests import factories

from .factories import customer, issue, line

ISSUED = timezone.make_aware(datetime(2026, 11, 1, 2, 30))  # due 2026-11-15 with 14 days' terms


@pytest.fixture(autouse=True)
def terms(settings):
    settings.INVOICE_PAYMENT_TERMS_DAYS = 14
    settings.DUNNING_REMINDER_DAYS = [7, 21]


def _invoice(name="Direkt GmbH", language="de"):
    recipient = customer(name=name)
    factories.member(recipient, OrgRole.OWNER, email=f"owner@{name.split()[0].lower()}.example", language=language)
    [invoice] = issue(line(recipient, quantity="2", unit_price="10.00"), issued_at=ISSUED)
    return invoice


@pytest.mark.django_db
def test_an_invoice_is_marked_overdue_the_day_after_its_due_date_once():
    invoice = _invoice()
    assert invoices_mark_overdue(today=date(2026, 11, 15)) == 0  # the due date itself
    assert invoices_mark_overdue(today=date(2026, 11, 16)) == 1
    assert invoices_mark_overdue(today=date(2026, 11, 17)) == 0  # conditional: marked once
    assert Invoice.objects.get(pk=invoice.pk).overdue_since == date(2026, 11, 16)


@pytest.mark.django_db
def test_paid_credited_invoices_and_credit_notes_are_never_overdue_nor_reminded():
    paid, credited, open_ = _invoice("Bezahlt GmbH"), _invoice("Storniert GmbH"), _invoice("Offen GmbH")
    invoice_mark_paid(invoice=paid, actor=factories.UserFactory(is_staff=True))
    note = credit_note_issue(invoice=credited, reason="Storno")

    marked, queued = dunning_run(today=date(2026, 12, 31))

    assert (marked, queued) == (1, 1)
    overdue = set(Invoice.objects.filter(overdue_since__isnull=False).values_list("pk", flat=True))
    assert overdue == {open_.pk}
    assert list(InvoiceReminder.objects.values_list("invoice_id", flat=True)) == [open_.pk]
    assert note.pk not in overdue


@pytest.mark.django_db
def test_one_reminder_per_level_and_only_the_highest_due_after_a_pause():
    first, _late = _invoice("Erste GmbH"), _invoice("Spaet GmbH")
    dunning_run(today=date(2026, 11, 16))
    assert not InvoiceReminder.objects.exists()  # overdue, but no reminder before 7 days past due
    # Level 1 on day 7 after the due date, once however often the job runs.
    assert dunning_run(today=date(2026, 11, 22))[1] == 2
    assert dunning_run(today=date(2026, 11, 23))[1] == 0
    assert dunning_run(today=date(2026, 12, 5))[1] == 0
    # Level 2 on day 21.
    assert dunning_run(today=date(2026, 12, 6))[1] == 2
    assert dunning_run(today=date(2026, 12, 7))[1] == 0
    assert sorted(InvoiceReminder.objects.filter(invoice=first).values_list("level", flat=True)) == [1, 2]
    assert OutboxMessage.objects.filter(kind=REMINDER_KIND).count() == 4
    assert AuditEvent.objects.filter(action="invoice.reminder_queued").count() == 4


@pytest.mark.django_db
def test_after_a_long_pause_only_the_highest_level_goes_out():
    invoice = _invoice()
    assert dunning_run(today=date(2027, 1, 31))[1] == 1
    assert list(InvoiceReminder.objects.filter(invoice=invoice).values_list("level", flat=True)) == [2]


@pytest.mark.django_db
def test_marking_paid_is_audited_and_refused_twice():
    invoice = _invoice()
    admin = factories.UserFactory(is_staff=True)
    paid = invoice_mark_paid(invoice=invoice, actor=admin)
    assert paid.paid_at is not None and paid.paid_by == admin
    with pytest.raises(Conflict):
        invoice_mark_paid(invoice=invoice, actor=admin)
    note = credit_note_issue(invoice=_invoice("Andere GmbH"), reason="x")
    with pytest.raises(Conflict):
        invoice_mark_paid(invoice=note, actor=admin)
    assert AuditEvent.objects.filter(action="invoice.marked_paid").count() == 1


@pytest.mark.django_db
def test_support_marks_invoices_paid_in_the_admin(client):
    from organizations.support import support_group_sync

    support = factories.UserFactory(is_staff=True)
    support.groups.add(support_group_sync())
    client.force_login(support)
    invoice = _invoice()
    response = client.post(
        "/admin/invoices/invoice/", {"action": "mark_paid", "_selected_action": [invoice.pk]}, follow=True
    )
    assert response.status_code == 200
    assert Invoice.objects.get(pk=invoice.pk).paid_by == support


def _wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_the_reminder_is_emailed_exactly_once_through_the_real_worker(media_roots, celery_live_worker):
    invoice = _invoice(language="de")
    paid = _invoice("Bezahlt GmbH")
    invoice_mark_paid(invoice=paid, actor=None)
    _wait_for(lambda: OutboxMessage.objects.filter(status="pending").count() == 0)
    mail.outbox.clear()

    dunning_run(today=date(2026, 11, 23))
    dunning_run(today=date(2026, 11, 24))  # again: nothing new
    _wait_for(lambda: any("Zahlungserinnerung" in email.subject for email in mail.outbox))
    time.sleep(1.5)  # room for a wrong second email to arrive

    reminders = [email for email in mail.outbox if "Zahlungserinnerung" in email.subject]
    assert len(reminders) == 1, [email.subject for email in mail.outbox]
    [email] = reminders
    assert email.to == ["owner@direkt.example"]
    assert invoice.number in email.subject and "23,80" in email.body and "15. Nov. 2026" in email.body
    assert [name for name, _content, _type in email.attachments] == [invoice.pdf_filename]
    assert set(OutboxMessage.objects.filter(kind=REMINDER_KIND).values_list("status", flat=True)) == {"done"}


@pytest.mark.django_db
def test_an_invoice_paid_after_its_reminder_was_queued_is_not_emailed():
    from invoices.services.dunning import invoice_reminder_send

    invoice = _invoice()
    dunning_run(today=date(2026, 11, 23))
    message = OutboxMessage.objects.get(kind=REMINDER_KIND)
    invoice_mark_paid(invoice=invoice, actor=None)
    invoice_reminder_send(message.payload)
    assert not OutboxMessage.objects.filter(dedupe_key__startswith="invoice-reminder-email-").exists()
