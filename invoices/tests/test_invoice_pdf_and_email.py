"""BIL-5: the PDF (WeasyPrint, text extracted with pypdf), stored once, and the email with it."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from invoices.models import Invoice
from invoices.services.issuing import invoice_deliver, invoice_pdf_ensure, invoice_render_pdf
from organizations.roles import OrgRole
from portal.models import OutboxMessage
from portal.outbox import outbox_process_message
from tests import factories

from .factories import customer, issue, line, partner, product


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_the_pdf_names_recipient_number_and_totals(media_roots):
    recipient = customer(name="Direkt GmbH")
    [invoice] = issue(line(recipient, item=product("33.33", "Backup"), quantity="3", unit_price="33.33"))
    text = pdf_text(invoice_render_pdf(invoice))
    assert "Direkt GmbH" in text
    assert invoice.number in text
    assert "Backup" in text
    assert "99.99" in text and "19.00" in text and "118.99" in text  # net, VAT, gross
    assert "Reseller Platform GmbH" in text  # the issuer


@pytest.mark.django_db
def test_a_partner_invoice_has_a_section_per_customer_and_the_reverse_charge_note(media_roots):
    reseller = partner(name="Wiener Partner GmbH", country="AT", vat_id="ATU13585627")
    first, second = customer(name="Kunde Eins AG"), customer(name="Kunde Zwei AG")
    [invoice] = issue(
        line(reseller, first, unit_price="10.00"), line(reseller, second, quantity="2", unit_price="5.50")
    )
    text = pdf_text(invoice_render_pdf(invoice))
    assert "Customer: Kunde Eins AG" in text and "Customer: Kunde Zwei AG" in text
    assert "Subtotal Kunde Zwei AG" in text
    assert "Reverse charge" in text and "ATU13585627" in text
    assert "21.00" in text


@pytest.mark.django_db
def test_the_pdf_is_in_the_recipients_language(media_roots):
    recipient = customer(name="Direkt GmbH", country="CH")
    factories.member(recipient, OrgRole.OWNER, language="de")
    [invoice] = issue(line(recipient, quantity="1", unit_price="1234.5"))
    text = pdf_text(invoice_render_pdf(invoice))
    assert "Rechnung" in text and "1.234,50" in text
    assert "Nicht im Inland steuerbar" in text


@pytest.mark.django_db
def test_the_pdf_is_stored_once_and_never_replaced(media_roots):
    recipient = customer()
    [invoice] = issue(line(recipient))
    stored = invoice_pdf_ensure(invoice=invoice)
    name, content = stored.pdf.name, stored.pdf.read()
    again = invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))
    assert again.pdf.name == name and again.pdf.read() == content
    # Even a stale copy without the PDF (a second worker) does not replace the stored file.
    stale = Invoice.objects.get(pk=invoice.pk)
    stale.pdf = ""
    assert invoice_pdf_ensure(invoice=stale).pdf.name == name
    # one PDF, one XRechnung XML with its gzip copy and one itemisation CSV (issue 13: stored once),
    # nothing left over
    assert sorted(p.suffix for p in (media_roots.private / "invoices" / str(invoice.year)).iterdir()) == [
        ".csv",
        ".gz",
        ".pdf",
        ".xml",
    ]


@pytest.mark.django_db
def test_delivery_queues_one_email_with_the_pdf_to_the_billing_address(media_roots, django_capture_on_commit_callbacks):
    recipient = customer(billing_email="rechnung@direkt.example")
    [invoice] = issue(line(recipient))
    invoice_deliver({"invoice_id": invoice.pk})
    invoice_deliver({"invoice_id": invoice.pk})  # a retried delivery sends nothing twice
    [message] = OutboxMessage.objects.filter(kind="email.send")
    assert message.payload["to"] == "rechnung@direkt.example"
    outbox_process_message(message_id=message.pk)
    [email] = mail.outbox
    assert email.to == ["rechnung@direkt.example"] and invoice.number in email.subject
    assert " EUR" not in email.body  # issue 16: the pages' money format ("€11.90" / "11,90 €")
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == (f"invoice-{invoice.number}.pdf", "application/pdf")
    assert invoice.number in pdf_text(content)
    assert Invoice.objects.get(pk=invoice.pk).emailed_at is not None


@pytest.mark.django_db(transaction=True)
def test_issuing_sends_the_email_with_the_pdf_through_the_real_worker(media_roots, celery_live_worker):
    import time

    recipient = customer(name="Direkt GmbH")
    factories.member(recipient, OrgRole.OWNER, email="owner@direkt.example", language="de")
    [invoice] = issue(line(recipient, quantity="2", unit_price="10.00"))
    deadline = time.monotonic() + 30
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.2)
    [email] = mail.outbox
    assert email.to == ["owner@direkt.example"]
    assert email.subject.startswith("Rechnung") and "23,80" in email.body
    [(filename, content, mimetype)] = email.attachments
    assert mimetype == "application/pdf" and "Direkt GmbH" in pdf_text(content)
    assert Invoice.objects.get(pk=invoice.pk).pdf
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"done"}


@pytest.mark.django_db
def test_the_recipients_own_logo_heads_its_pdf(media_roots):
    from django.core.files.base import ContentFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (200, 30, 30)).save(buffer, "PNG")
    recipient = customer()
    recipient.logo.save("logo.png", ContentFile(buffer.getvalue()))
    [invoice] = issue(line(recipient))
    from invoices.services.issuing import _logo_url

    assert _logo_url(recipient).endswith(recipient.logo.name)
    reader = PdfReader(io.BytesIO(invoice_render_pdf(invoice)))
    assert any(reader.pages[0].images)
    assert Decimal("11.90") == invoice.gross_total
