"""Issue 15, credit notes: cancel an issued invoice in full or in part, own gapless series,
refusals, PDF, email through the delivery job, audit, pages and admin."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone, translation

from invoices.models import ImmutableInvoiceError, Invoice, InvoiceNumberCounter
from invoices.services import credit_notes
from invoices.services.credit_notes import CreditLine, credit_note_issue, open_amount
from invoices.services.issuing import DELIVER_KIND, invoice_deliver, invoice_render_pdf
from organizations.models import AuditEvent
from organizations.roles import OrgRole
from portal.errors import Conflict, InvalidInput
from portal.models import OutboxMessage
from tests import factories

from .factories import customer, issue, line
from .test_invoice_pdf_and_email import pdf_text

YEAR = timezone.localdate().year


def _invoice(recipient=None, **kwargs):
    recipient = recipient or customer(name="Direkt GmbH")
    [invoice] = issue(
        line(recipient, quantity="2", unit_price="10.00"), line(recipient, quantity="3", unit_price="5.00"), **kwargs
    )
    return invoice  # net 35.00, VAT 6.65, gross 41.65 (German VAT)


@pytest.mark.django_db
def test_a_credit_note_cancels_an_invoice_in_full():
    invoice = _invoice()
    admin = factories.UserFactory(is_staff=True)

    note = credit_note_issue(invoice=invoice, reason="Billed twice", actor=admin)

    assert note.kind == Invoice.Kind.CREDIT_NOTE and note.corrects == invoice
    assert note.number == f"GS-{YEAR}-000001" and note.sequence == 1
    assert (note.net_total, note.vat_amount, note.gross_total) == (
        Decimal("-35.00"),
        Decimal("-6.65"),
        Decimal("-41.65"),
    )
    assert [(line.position, line.quantity, line.net_amount) for line in note.lines.all()] == [
        (1, Decimal("2.00"), Decimal("-20.00")),
        (2, Decimal("3.00"), Decimal("-15.00")),
    ]
    assert all(line.unit_price < 0 for line in note.lines.all())
    assert (note.recipient_id, note.period_start, note.vat_treatment) == (
        invoice.recipient_id,
        invoice.period_start,
        invoice.vat_treatment,
    )
    assert open_amount(invoice) == 0
    # The invoice is untouched; its own series is not advanced by the credit note.
    reloaded = Invoice.objects.get(pk=invoice.pk)
    assert (reloaded.gross_total, reloaded.number) == (invoice.gross_total, invoice.number)
    assert InvoiceNumberCounter.objects.get(series="invoice", year=invoice.year).last_number == 1
    assert InvoiceNumberCounter.objects.get(series="credit_note", year=YEAR).last_number == 1
    event = AuditEvent.objects.get(action="invoice.credit_note_issued")
    assert event.after["corrects"] == invoice.number and event.organization_id == invoice.recipient_id
    assert OutboxMessage.objects.filter(kind=DELIVER_KIND, payload={"invoice_id": note.pk}).exists()


@pytest.mark.django_db
def test_a_credit_note_cancels_an_invoice_in_part_and_never_beyond_what_is_open():
    invoice = _invoice()

    first = credit_note_issue(invoice=invoice, lines=[CreditLine(position=1, quantity=Decimal("1"))], reason="One seat")
    assert (first.net_total, first.vat_amount, first.gross_total) == (
        Decimal("-10.00"),
        Decimal("-1.90"),
        Decimal("-11.90"),
    )
    assert open_amount(invoice) == Decimal("29.75")

    second = credit_note_issue(invoice=invoice, lines=[CreditLine(position=2)], reason="Module not used")
    assert second.number == f"GS-{YEAR}-000002" and second.gross_total == Decimal("-17.85")
    assert open_amount(invoice) == Decimal("11.90")

    with pytest.raises(Conflict) as refused:
        credit_note_issue(invoice=invoice, reason="Everything")  # the whole invoice: more than is open
    assert refused.value.code == "credit_note_exceeds_open_amount"
    assert "11.90" in refused.value.message
    assert Invoice.objects.filter(kind="credit_note").count() == 2
    assert InvoiceNumberCounter.objects.get(series="credit_note", year=YEAR).last_number == 2  # no gap


@pytest.mark.django_db
def test_credit_note_refusals_are_domain_errors_in_english_and_german():
    invoice = _invoice()
    note = credit_note_issue(invoice=invoice, lines=[CreditLine(position=1)], reason="Wrong")

    cases = [
        (lambda: credit_note_issue(invoice=note, reason="x"), Conflict, "credit_note_of_credit_note"),
        (lambda: credit_note_issue(invoice=Invoice(), reason="x"), Conflict, "invoice_not_issued"),
        (lambda: credit_note_issue(invoice=invoice, reason="  "), InvalidInput, "invalid"),
        (
            lambda: credit_note_issue(invoice=invoice, lines=[CreditLine(position=9)], reason="x"),
            InvalidInput,
            "credit_note_line_unknown",
        ),
        (
            lambda: credit_note_issue(
                invoice=invoice, lines=[CreditLine(position=2, quantity=Decimal("4"))], reason="x"
            ),
            InvalidInput,
            "credit_note_quantity",
        ),
        (lambda: credit_note_issue(invoice=invoice, lines=[], reason="x"), InvalidInput, "credit_note_empty"),
        (
            lambda: credit_note_issue(invoice=invoice, lines=[CreditLine(position=1)], reason="again"),
            Conflict,
            "credit_note_exceeds_open_amount",
        ),
    ]
    for attempt, error_class, code in cases:
        messages = {}
        for language in ("en", "de"):
            with translation.override(language), pytest.raises(error_class) as refused:
                attempt()
            assert refused.value.code == code
            messages[language] = str(refused.value.message)
        assert messages["en"] != messages["de"], messages  # translated
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    assert InvoiceNumberCounter.objects.get(series="credit_note", year=YEAR).last_number == 1


@pytest.mark.django_db
def test_issued_invoices_and_credit_notes_stay_immutable():
    invoice = _invoice()
    note = credit_note_issue(invoice=invoice, reason="Wrong")
    for document in (invoice, note):
        document.gross_total = Decimal("0")
        with pytest.raises(ImmutableInvoiceError):
            document.save()
        with pytest.raises(ImmutableInvoiceError):
            Invoice.objects.filter(pk=document.pk).update(gross_total=0)
    # The database refuses a credit note that corrects nothing, and an invoice that corrects one.
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.bulk_create([Invoice(**{**_fields(note), "corrects": None, "sequence": 99, "number": "GS-X"})])


def _fields(document: Invoice) -> dict:
    return {
        field.name: getattr(document, field.name)
        for field in Invoice._meta.concrete_fields
        if field.name not in {"id", "created_at", "pdf"}
    }


@pytest.mark.django_db
def test_a_credit_note_renders_as_pdf_naming_the_corrected_invoice(media_roots):
    invoice = _invoice()
    note = credit_note_issue(invoice=invoice, lines=[CreditLine(position=2)], reason="Module not used")
    text = pdf_text(invoice_render_pdf(note))
    assert f"Credit note {note.number}" in text
    assert f"Corrects invoice {invoice.number}" in text and "Module not used" in text
    assert "-€17.85" in text.replace("−", "-")  # the pages' money format (|money), issue 16
    assert note.pdf_filename == f"credit-note-{note.number}.pdf"


@pytest.mark.django_db
def test_the_credit_note_is_emailed_through_the_invoice_delivery_job_in_the_recipients_language(media_roots):
    recipient = customer(name="Direkt GmbH")
    factories.member(recipient, OrgRole.OWNER, email="owner@direkt.example", language="de")
    invoice = _invoice(recipient)
    note = credit_note_issue(invoice=invoice, reason="Doppelt berechnet")

    invoice_deliver({"invoice_id": note.pk})

    message = OutboxMessage.objects.get(dedupe_key=f"invoice-email-{note.pk}")
    from portal.emails import email_send

    email_send(message.payload)
    [email] = mail.outbox
    assert email.subject.startswith(f"Stornorechnung {note.number}")
    assert invoice.number in email.body and "−41,65\u00a0€" in email.body  # the pages' money format (issue 16)
    [(filename, content, mimetype)] = email.attachments
    assert filename == f"credit-note-{note.number}.pdf" and "Stornorechnung" in pdf_text(content)


def _run_concurrently(*jobs):
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - reported to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


@pytest.fixture
def slow_credit_note_lock(monkeypatch):
    """Hold the credit note counter lock a moment, so the second issuer surely waits on it. The
    counter row exists beforehand, so only the row lock (not the INSERT creating it) serialises."""
    InvoiceNumberCounter.objects.create(series="credit_note", year=YEAR, last_number=0)
    original = credit_notes._lock_counter

    def locking_slowly(year, series):
        counter = original(year, series)
        time.sleep(0.3)
        return counter

    monkeypatch.setattr(credit_notes, "_lock_counter", locking_slowly)


@pytest.mark.django_db(transaction=True)
def test_concurrent_credit_notes_get_consecutive_numbers_without_gap_or_duplicate(slow_credit_note_lock):
    assert connection.vendor == "postgresql"
    first_invoice = _invoice(customer(name="Erste GmbH"))
    second_invoice = _invoice(customer(name="Zweite GmbH"))

    results, errors = _run_concurrently(
        lambda: credit_note_issue(invoice=first_invoice, reason="race 1"),
        lambda: credit_note_issue(invoice=second_invoice, reason="race 2"),
    )

    assert not errors, errors
    assert sorted(note.sequence for note in results) == [1, 2]
    assert sorted(Invoice.objects.filter(kind="credit_note").values_list("number", flat=True)) == [
        f"GS-{YEAR}-000001",
        f"GS-{YEAR}-000002",
    ]
    assert InvoiceNumberCounter.objects.get(series="credit_note", year=YEAR).last_number == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_full_credit_notes_of_one_invoice_credit_it_once(slow_credit_note_lock):
    invoice = _invoice()

    results, errors = _run_concurrently(
        lambda: credit_note_issue(invoice=invoice, reason="race 1"),
        lambda: credit_note_issue(invoice=invoice, reason="race 2"),
    )

    assert len(errors) == 1 and getattr(errors[0], "code", "") == "credit_note_exceeds_open_amount", errors
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    assert InvoiceNumberCounter.objects.get(series="credit_note", year=YEAR).last_number == 1


@pytest.mark.django_db
def test_the_recipient_sees_the_credit_note_labelled_and_linked_both_ways(client, media_roots):
    recipient = customer(name="Direkt GmbH")
    owner = factories.member(recipient, OrgRole.OWNER, language="de")
    invoice = _invoice(recipient)
    note = credit_note_issue(invoice=invoice, reason="Doppelt berechnet")
    client.force_login(owner)
    base = f"/o/{recipient.public_id}/settings/invoices/"

    listing = client.get(base).content.decode()
    assert note.number in listing and "Stornorechnung" in listing
    detail = client.get(f"{base}{note.pk}/").content.decode()
    assert f"Stornorechnung {note.number}" in detail
    assert f'href="{base}{invoice.pk}/"' in detail and "Doppelt berechnet" in detail
    original = client.get(f"{base}{invoice.pk}/").content.decode()
    assert f'href="{base}{note.pk}/"' in original
    assert client.get(f"{base}{note.pk}/pdf/").status_code in (200, 202)


@pytest.fixture
def support_client(client):
    from organizations.support import support_group_sync

    support = factories.UserFactory(is_staff=True)
    support.groups.add(support_group_sync())
    client.force_login(support)
    client.user = support
    return client


@pytest.mark.django_db
def test_support_issues_a_partial_credit_note_in_the_admin_audited(support_client):
    invoice = _invoice()
    url = f"/admin/invoices/invoice/{invoice.pk}/credit-note/"
    assert url in support_client.get(f"/admin/invoices/invoice/{invoice.pk}/change/").content.decode()
    assert support_client.get(url).status_code == 200

    refused = support_client.post(url, {"scope": "lines", "lines": "1: 5", "reason": "Too many"})
    assert refused.status_code == 200 and not Invoice.objects.filter(kind="credit_note").exists()
    assert "at most 2.00" in refused.content.decode()

    response = support_client.post(url, {"scope": "lines", "lines": "1: 1\n2", "reason": "Partly unused"})
    note = Invoice.objects.get(kind="credit_note")
    assert response.status_code == 302 and response["Location"].endswith(f"/admin/invoices/invoice/{note.pk}/change/")
    assert note.gross_total == Decimal("-29.75") and note.corrects == invoice
    event = AuditEvent.objects.get(action="invoice.credit_note_issued")
    assert event.actor_id == support_client.user.pk


@pytest.mark.django_db
def test_staff_without_the_credit_note_permission_cannot_issue_one(client):
    from django.contrib.auth.models import Permission

    staff = factories.UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    client.force_login(staff)
    invoice = _invoice()
    response = client.post(
        f"/admin/invoices/invoice/{invoice.pk}/credit-note/", {"scope": "full", "reason": "No right to do this"}
    )
    assert response.status_code == 403
    assert not Invoice.objects.filter(kind="credit_note").exists()
