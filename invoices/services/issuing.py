"""Issuing invoices (BIL-5) and their numbering, PDF and email: the write side of invoicing.

Who calls what:
- `invoice_monthly_run()` – the Celery beat task `invoices.tasks.invoice_monthly_run`, on
  the 1st of each month for the month before. It asks the subscription side for the billable
  lines of the period (`billing.selectors.billable_lines`, see `LineSource`) and issues them.
  Invoices are downstream of billing: billing never imports this app.
- `invoices_issue()` – the core: one invoice per recipient and period, in ONE transaction with a
  constant number of queries however many recipients and customer orgs there are (bulk inserts).
- `invoice_deliver()` – the outbox handler run by the worker after the commit: renders the PDF
  once (`invoice_pdf_ensure`) and queues the email with the PDF attached, in the recipient's
  language.

Guarantees:
- Idempotent: a recipient that already has an invoice for the period gets nothing new; the check
  runs after the number counter is locked, so a concurrent second run sees the first run's
  invoices. The unique constraint (recipient, period_start) backs this up.
- Gapless yearly numbers `2026-000123`: the year's counter row is locked with SELECT … FOR UPDATE
  in the issuing transaction and advanced by exactly the number of invoices inserted; a failed
  run rolls the counter back with its invoices.
- Money is Decimal (`billing.money`): each line is rounded half-up to cents; net = sum of
  rounded lines; VAT is computed on the net total and rounded half-up; gross = net + VAT.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from billing import money
from billing.selectors import BillableLine
from organizations.models import Membership, Organization
from organizations.roles import OrgRole
from portal.audit import audit_event_build, audit_record_many
from portal.emails import email_attachment_loader, email_enqueue
from portal.errors import InvalidInput
from portal.files import store_compressed_copy
from portal.models import OutboxMessage
from portal.outbox import outbox_enqueue, outbox_publish

from ..models import (
    Invoice,
    InvoiceCustomerTotal,
    InvoiceLine,
    InvoiceNumberCounter,
    PaymentMethod,
    customer_totals_build,
)
from ..vat import issuer_details, vat_decision, vat_note_text

logger = logging.getLogger(__name__)

# Stored in outbox rows (and attachment references) in flight: the names from before the move stay.
DELIVER_KIND = "billing.invoice_deliver"
ATTACHMENT_KIND = "billing.invoice_pdf"
PDF_KIND = "invoices.invoice_pdf"

# --- periods ------------------------------------------------------------------------------------


def month_period(day: date) -> tuple[date, date]:
    """The calendar month containing `day`: (first day, last day)."""
    start = day.replace(day=1)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return start, next_month - timedelta(days=1)


def previous_month(day: date) -> tuple[date, date]:
    return month_period(day.replace(day=1) - timedelta(days=1))


# --- the lines to bill (`billing.selectors.BillableLine`, the contract with the subscriptions) --

# (period_start, period_end) -> the lines of that period.
LineSource = Callable[[date, date], Iterable[BillableLine]]


def default_line_source() -> LineSource:
    """The subscriptions' selector: invoices are downstream of billing, which never imports them."""
    from billing.selectors import billable_lines

    return billable_lines


# --- issuing ------------------------------------------------------------------------------------


def _recipient_address(organization: Organization) -> dict:
    """The billing address override where it is the invoice recipient (ORG-1), else the org's."""
    if organization.billing_address_is_invoice_recipient:
        return {
            "recipient_name": organization.billing_name or organization.name,
            "recipient_street": organization.billing_street,
            "recipient_postcode": organization.billing_postcode,
            "recipient_city": organization.billing_city,
            "recipient_country": organization.billing_country or organization.country,
        }
    return {
        "recipient_name": organization.name,
        "recipient_street": organization.street,
        "recipient_postcode": organization.postcode,
        "recipient_city": organization.city,
        "recipient_country": organization.country,
    }


def _owners_by_org(organization_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(email, language) of each org's first Owner – one query for all orgs."""
    owners: dict[int, tuple[str, str]] = {}
    rows = (
        Membership.objects.filter(organization_id__in=organization_ids, role=OrgRole.OWNER, user__is_active=True)
        .order_by("organization_id", "created_at", "id")
        .values_list("organization_id", "user__email", "user__language")
    )
    for organization_id, email, language in rows:
        owners.setdefault(organization_id, (email, language))
    return owners


def _lock_counter(year: int, series: str = Invoice.Kind.INVOICE) -> InvoiceNumberCounter:
    """The number series' counter row of `year`, locked until the transaction ends (one per
    series: invoices and credit notes, `invoices.services.credit_notes`)."""
    InvoiceNumberCounter.objects.bulk_create([InvoiceNumberCounter(series=series, year=year)], ignore_conflicts=True)
    return InvoiceNumberCounter.objects.select_for_update().get(series=series, year=year)


# Credit notes print with this prefix: their own series, never confused with an invoice number.
NUMBER_PREFIXES = {Invoice.Kind.INVOICE: "", Invoice.Kind.CREDIT_NOTE: "GS-"}


def invoice_number(*, year: int, sequence: int, kind: str = Invoice.Kind.INVOICE) -> str:
    return f"{NUMBER_PREFIXES[kind]}{year}-{sequence:06d}"


def invoices_issue(
    *,
    period_start: date,
    period_end: date,
    lines: Iterable[BillableLine],
    issued_at: datetime | None = None,
    actor=None,
) -> list[Invoice]:
    """Issue one invoice per recipient of `lines` that has none for `period_start` yet.

    Called by the monthly run (no actor) and by support tooling; not by tenant users. Returns the
    invoices issued now (empty when everything was issued before). Runs in its own transaction
    with a constant number of queries; PDFs and emails follow after the commit via the outbox.
    """
    if period_end < period_start:
        raise InvalidInput(_("The period ends before it starts."))
    issued_at = issued_at or timezone.now()
    drafts: dict[int, list[BillableLine]] = defaultdict(list)
    for line in lines:
        drafts[line.recipient_id].append(line)
    if not drafts:
        return []

    year = timezone.localtime(issued_at).year if timezone.is_aware(issued_at) else issued_at.year
    with transaction.atomic():
        # Lock first, then look: a concurrent run for the same year waits here and afterwards
        # sees every invoice the first run committed.
        counter = _lock_counter(year)
        already = set(
            Invoice.objects.filter(period_start=period_start, recipient_id__in=list(drafts)).values_list(
                "recipient_id", flat=True
            )
        )
        pending = {recipient_id: rows for recipient_id, rows in drafts.items() if recipient_id not in already}
        # A recipient whose lines are all free (e.g. only trial licenses) gets no invoice.
        pending = {
            recipient_id: rows for recipient_id, rows in pending.items() if any(line.net_amount for line in rows)
        }
        if not pending:
            return []

        recipients = Organization.objects.in_bulk(list(pending))
        customer_ids = {line.customer_id for rows in pending.values() for line in rows}
        customer_names = dict(Organization.objects.filter(pk__in=customer_ids).values_list("pk", "name"))
        from offers.models import Product

        product_ids = {line.product_id for rows in pending.values() for line in rows if line.product_id}
        products = Product.objects.in_bulk(list(product_ids))
        owners = _owners_by_org(list(pending))
        payment_methods = {
            method.organization_id: method
            for method in PaymentMethod.objects.filter(
                organization_id__in=list(pending), is_default=True, removed_at__isnull=True
            )
        }
        issuer = issuer_details()

        invoices: list[Invoice] = []
        invoice_lines: dict[int, list[InvoiceLine]] = {}
        # Stable order: numbers follow recipient names, so reruns of a failed run number alike.
        ordered = sorted(pending, key=lambda pk: (recipients[pk].name.lower(), pk))
        for offset, recipient_id in enumerate(ordered, start=1):
            recipient = recipients[recipient_id]
            owner_email, owner_language = owners.get(recipient_id, ("", settings.LANGUAGE_CODE))
            language = owner_language if owner_language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
            decision = vat_decision(country=str(recipient.country or ""), vat_id=recipient.vat_id)
            rows = sorted(
                pending[recipient_id],
                key=lambda line: (
                    customer_names.get(line.customer_id, "").lower(),
                    line.customer_id,
                    line.period_start,
                ),
            )
            built_lines = []
            for position, line in enumerate(rows, start=1):
                product = products.get(line.product_id)
                description = line.description or _product_name(product, language)
                if line.project_number:
                    description = f"{description} ({line.project_number})"
                built_lines.append(
                    InvoiceLine(
                        position=position,
                        customer_id=line.customer_id,
                        customer_name=customer_names.get(line.customer_id, ""),
                        product_id=line.product_id,
                        description=description[:300],
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        period_start=line.period_start,
                        period_end=line.period_end,
                        net_amount=line.net_amount,
                    )
                )
            totals = money.totals(line_amounts=[line.net_amount for line in built_lines], vat_rate=decision.rate)
            sequence = counter.last_number + offset
            method = payment_methods.get(recipient_id)
            invoice = Invoice(
                number=invoice_number(year=year, sequence=sequence),
                year=year,
                sequence=sequence,
                recipient=recipient,
                period_start=period_start,
                period_end=period_end,
                issued_at=issued_at,
                language=language,
                recipient_vat_id=recipient.vat_id,
                recipient_buyer_reference=recipient.billing_buyer_reference,
                recipient_email=recipient.billing_email or owner_email,
                issuer=issuer,
                payment_method_text=_payment_text(method, language),
                vat_treatment=decision.treatment,
                vat_rate=decision.rate,
                vat_note=decision.note,
                net_total=totals.net,
                vat_amount=totals.vat,
                gross_total=totals.gross,
                **_recipient_address(recipient),
            )
            invoices.append(invoice)
            invoice_lines[sequence] = built_lines

        Invoice.objects.bulk_create(invoices)
        all_lines, all_totals = [], []
        for invoice in invoices:
            for line in invoice_lines[invoice.sequence]:
                line.invoice = invoice
                all_lines.append(line)
            all_totals += customer_totals_build(invoice_lines[invoice.sequence])
        InvoiceLine.objects.bulk_create(all_lines)
        # Issue 13: the sums per customer, stored once (the invoice never changes): pages and the
        # API read a page of them instead of grouping every line per request.
        InvoiceCustomerTotal.objects.bulk_create(all_totals)
        InvoiceNumberCounter.objects.filter(pk=counter.pk).update(last_number=counter.last_number + len(invoices))

        audit_record_many(
            [
                audit_event_build(
                    action="invoice.issued",
                    target=invoice,
                    target_repr=invoice.number,
                    actor=actor,
                    organization_id=invoice.recipient_id,
                    after={
                        "number": invoice.number,
                        "period": f"{period_start.isoformat()}/{period_end.isoformat()}",
                        "net": str(invoice.net_total),
                        "vat": str(invoice.vat_amount),
                        "gross": str(invoice.gross_total),
                    },
                    created_at=issued_at,
                )
                for invoice in invoices
            ]
        )
        messages = OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    kind=DELIVER_KIND, payload={"invoice_id": invoice.pk}, dedupe_key=f"invoice-deliver-{invoice.pk}"
                )
                for invoice in invoices
            ]
        )
        message_ids = [message.pk for message in messages]
        transaction.on_commit(
            lambda: [outbox_publish(message_id=message_id, kind=DELIVER_KIND) for message_id in message_ids]
        )
    logger.info("Issued %s invoices for %s – %s", len(invoices), period_start, period_end)
    return invoices


def _product_name(product, language: str) -> str:
    if product is None:
        return ""
    return product.name_de if language.startswith("de") else product.name_en


def _payment_text(method: PaymentMethod | None, language: str) -> str:
    with translation.override(language):
        if method is not None and method.kind == PaymentMethod.Kind.SEPA_DIRECT_DEBIT:
            return _("The amount will be collected by SEPA direct debit from %(iban)s (mandate %(mandate)s).") % {
                "iban": method.masked_iban,
                "mandate": method.mandate_reference,
            }
        # The same terms dunning counts with (`invoices.services.dunning.due_on`).
        return _("Please transfer the amount within %(days)s days, stating the invoice number.") % {
            "days": settings.INVOICE_PAYMENT_TERMS_DAYS
        }


def invoice_monthly_run(*, today: date | None = None, line_source: LineSource | None = None) -> int:
    """Issue the invoices of the previous month (beat: 1st of each month). Returns how many.

    Safe to run any number of times: recipients invoiced already for that month are skipped.
    """
    today = today or timezone.localdate()
    period_start, period_end = previous_month(today)
    source = line_source or default_line_source()
    return len(invoices_issue(period_start=period_start, period_end=period_end, lines=source(period_start, period_end)))


# --- PDF and email (after the commit, on the worker) --------------------------------------------


# Up to this many lines the PDF lists every line; above, it summarises per product (and per
# customer, up to PDF_SUMMARY_MAX_CUSTOMERS) and embeds the full itemisation as CSV. §14(4) UStG
# asks for quantity and kind of the services, their period, the amounts per VAT rate; §31(1) UStDV
# lets an invoice consist of several documents when the invoice refers to them, as the PDF does.
# The Factur-X XML in the same file carries every line too. Keeps the PDF of a 10,000-line partner
# invoice at a few pages and seconds (issue 13) instead of 800+ pages.
PDF_ITEMISED_MAX_LINES = 200
PDF_SUMMARY_MAX_CUSTOMERS = 50


def itemisation_filename(invoice: Invoice) -> str:
    return f"itemisation-{invoice.number}.csv"


def _pdf_summary(invoice: Invoice, lines: list[InvoiceLine]) -> dict:
    """Per product (name in the invoice's language) and per customer: line count, quantity, amount."""
    from offers.models import Product

    products = Product.objects.in_bulk({line.product_id for line in lines if line.product_id})
    by_product: dict = {}
    by_customer: dict = {}
    for line in lines:
        product = products.get(line.product_id)
        key = ("product", line.product_id) if product else ("text", line.description)
        row = by_product.get(key)
        if row is None:
            name = _product_name(product, invoice.language) if product else line.description
            row = by_product[key] = {
                "name": name,
                "lines": 0,
                "quantity": Decimal(0),
                "amount": Decimal(0),
                "start": line.period_start,
                "end": line.period_end,
            }
        row["lines"] += 1
        row["quantity"] += line.quantity
        row["amount"] += line.net_amount
        row["start"] = min(row["start"], line.period_start)
        row["end"] = max(row["end"], line.period_end)
        customer = by_customer.setdefault(
            line.customer_id, {"customer_name": line.customer_name, "lines": 0, "amount": Decimal(0)}
        )
        customer["lines"] += 1
        customer["amount"] += line.net_amount
    return {
        "products": sorted(by_product.values(), key=lambda row: row["name"].lower()),
        "customers": list(by_customer.values()) if len(by_customer) <= PDF_SUMMARY_MAX_CUSTOMERS else [],
        "line_count": len(lines),
        "filename": itemisation_filename(invoice),
    }


def invoice_render_pdf(invoice: Invoice) -> bytes:
    """The invoice as Factur-X PDF/A-3 (EN 16931 CII XML embedded), in its own language.

    WeasyPrint renders the visual part as PDF/A-3b; `invoices.einvoice` embeds the XML (checked
    against the EN 16931 XSD) and, for large invoices, the itemisation CSV. Runs on the worker only
    (outbox `invoice_deliver`); ~1 s for a small invoice, a few seconds for 10,000 lines.
    """
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from ..einvoice import einvoice_pdf, einvoice_xml, invoice_kind, itemisation_csv
    from ..selectors import invoice_sections

    lines = list(invoice.lines.order_by("position"))
    summarised = len(lines) > PDF_ITEMISED_MAX_LINES
    corrects_id = getattr(invoice, "corrects_id", None)
    corrected = invoice.corrects if corrects_id else None
    with translation.override(invoice.language):
        title = pgettext("invoice pdf", "Credit note") if invoice_kind(invoice) == "credit_note" else _("Invoice")
        html = render_to_string(
            "invoices/pdf.html",
            {
                "invoice": invoice,
                "title": title,
                "corrected": corrected,
                "issuer": invoice.issuer,
                "sections": [] if summarised else invoice_sections(invoice=invoice),
                "summary": _pdf_summary(invoice, lines) if summarised else None,
                "vat_note": vat_note_text(invoice.vat_note),
                "logo_url": _logo_url(invoice.recipient),
                "grouped": invoice.recipient.is_partner,
            },
        )
    visual = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/a-3b")
    attachments = {itemisation_filename(invoice): itemisation_csv(invoice, lines)} if summarised else {}
    return einvoice_pdf(visual, invoice, xml=einvoice_xml(invoice, lines=lines), attachments=attachments)


def _logo_url(organization: Organization) -> str:
    """The recipient's own logo heads its documents (ORG-8, `document_logo_for`); else the platform's mark."""
    from organizations.selectors import document_logo_for

    logo = document_logo_for(organization)
    if logo:
        try:
            return "file://" + logo.path
        except (NotImplementedError, ValueError):
            pass
    return "file://" + str(settings.BASE_DIR / "static" / "portal" / "favicon.svg")


def _store_once(invoice: Invoice, field_name: str, filename: str, content: bytes, *, compressed: bool = False) -> None:
    """Store `content` as the invoice's private file `field_name` unless it has one: attached by a
    conditional UPDATE, so a second call (or a concurrent worker) never replaces it. `compressed`:
    with its gzip copy beside it (stored first, so the download never misses it)."""
    field = Invoice._meta.get_field(field_name)
    # Private storage under a random name (`upload_to`), never the invoice number.
    name = field.storage.save(field.generate_filename(invoice, filename), ContentFile(content))
    copy = store_compressed_copy(field.storage, name, content) if compressed else None
    attached = Invoice.objects.filter(pk=invoice.pk, **{field_name: ""}).update(**{field_name: name})
    if not attached:
        field.storage.delete(name)  # another worker was first; keep its file
        if copy:
            field.storage.delete(copy)


def invoice_pdf_ensure(*, invoice: Invoice) -> Invoice:
    """Render and store the PDF, build and store the XRechnung XML and the itemisation CSV (issue
    13), each if the invoice has none yet. Each is stored once: never replaced (`_store_once`)."""
    if invoice.pdf and invoice.xrechnung and invoice.itemisation:
        return invoice
    if not invoice.pdf:
        _store_once(invoice, "pdf", invoice.pdf_filename, invoice_render_pdf(invoice))
    if not invoice.xrechnung:
        from ..einvoice import XRECHNUNG, einvoice_xml

        # 12.5 MB for 10,000 lines: sent gzip-compressed to clients that accept it (issue 13)
        xml = einvoice_xml(invoice, profile=XRECHNUNG)
        _store_once(invoice, "xrechnung", invoice.xrechnung_filename, xml, compressed=True)
    if not invoice.itemisation:
        from ..itemisation import itemisation_csv_build

        _store_once(invoice, "itemisation", "itemisation.csv", itemisation_csv_build(invoice))
    return Invoice.objects.get(pk=invoice.pk)


def _documents_request(invoice: Invoice, *, ready: bool) -> bool:
    """Make sure the worker renders the invoice's documents; never renders here (issue 13: a
    10,000-line invoice takes far longer than a request may). Returns `ready` (the document
    asked for is stored already).

    Idempotent and cheap (one indexed look-up by dedupe key, at most one write): nothing happens
    while the delivery job or an earlier PDF job is still pending or running; a PDF job that has
    finished (or failed) without leaving the document is re-armed and published again. Both
    jobs store the PDF, the XRechnung XML and the itemisation CSV (`invoice_pdf_ensure`)."""
    if ready:
        return True
    keys = {f"invoice-deliver-{invoice.pk}": DELIVER_KIND, f"invoice-pdf-{invoice.pk}": PDF_KIND}
    rows = dict(OutboxMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", "status"))
    if any(status in (OutboxMessage.Status.PENDING, OutboxMessage.Status.PROCESSING) for status in rows.values()):
        return False
    pdf_key = f"invoice-pdf-{invoice.pk}"
    if pdf_key not in rows:
        outbox_enqueue(kind=PDF_KIND, payload={"invoice_id": invoice.pk}, dedupe_key=pdf_key)
        return False
    rearmed = OutboxMessage.objects.filter(
        dedupe_key=pdf_key, status__in=(OutboxMessage.Status.DONE, OutboxMessage.Status.FAILED)
    )
    message_id = rearmed.values_list("pk", flat=True).first()
    if message_id and rearmed.update(status=OutboxMessage.Status.PENDING, attempts=0, available_at=timezone.now()):
        transaction.on_commit(lambda: outbox_publish(message_id=message_id, kind=PDF_KIND))
    return False


def invoice_pdf_request(*, invoice: Invoice) -> bool:
    """True when the PDF is stored; else makes sure the worker renders it (`_documents_request`)."""
    return _documents_request(invoice, ready=bool(invoice.pdf))


def invoice_xrechnung_request(*, invoice: Invoice) -> bool:
    """True when the XRechnung XML is stored; else makes sure the worker builds it (with the PDF;
    invoices whose PDF predates the stored XML get the PDF job re-armed for the XML alone)."""
    return _documents_request(invoice, ready=bool(invoice.xrechnung))


def invoice_itemisation_request(*, invoice: Invoice) -> bool:
    """True when the itemisation CSV is stored; else makes sure the worker builds it (with the PDF;
    invoices issued before it was stored get the PDF job re-armed for the CSV alone)."""
    return _documents_request(invoice, ready=bool(invoice.itemisation))


def invoice_pdf_job(payload: dict) -> None:
    """The PDF job (outbox `invoices.invoice_pdf`): store the PDF, the XRechnung XML and the
    itemisation CSV once; no email."""
    invoice = Invoice.objects.select_related("recipient").filter(pk=payload["invoice_id"]).first()
    if invoice is not None:
        invoice_pdf_ensure(invoice=invoice)


def invoice_deliver(payload: dict) -> None:
    """Render the PDF once, then queue the email to the recipient with the PDF attached."""
    invoice = Invoice.objects.select_related("recipient").get(pk=payload["invoice_id"])
    invoice = invoice_pdf_ensure(invoice=invoice)
    if not invoice.recipient_email:
        logger.warning("Invoice %s has no recipient email; PDF stored, nothing sent", invoice.number)
        return
    email_enqueue(
        to=invoice.recipient_email,
        subject_template="invoices/email_subject.txt",
        body_template="invoices/email_body.txt",
        context=_email_context(invoice),
        language=invoice.language,
        dedupe_key=f"invoice-email-{invoice.pk}",
        attachments=[{"kind": ATTACHMENT_KIND, "id": invoice.pk}],
    )
    Invoice.objects.filter(pk=invoice.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())


def _email_context(invoice: Invoice) -> dict:
    """Dates and amounts already formatted in the recipient's language (the context is JSON)."""
    from django.utils.formats import date_format

    from portal.templatetags.ui import money as money_text

    # The pages' formats (issue 16): "2 Dec 2026", "€1,469.06" / "2. Dez. 2026", "1.469,06 €".
    with translation.override(invoice.language):
        period = (
            f"{date_format(invoice.period_start, 'DATE_FORMAT')} – {date_format(invoice.period_end, 'DATE_FORMAT')}"
        )
        total = money_text(invoice.gross_total, invoice.currency)
    return {
        "number": invoice.number,
        "recipient": invoice.recipient_name,
        "period": period,
        "total": total,
        "currency": invoice.currency,
        "issuer": invoice.issuer.get("name", ""),
        "credit_note": invoice.is_credit_note,
        "corrects": invoice.corrects.number if invoice.corrects_id else "",
    }


@email_attachment_loader(ATTACHMENT_KIND)
def invoice_pdf_attachment(invoice_id: int) -> tuple[str, bytes, str]:
    invoice = Invoice.objects.get(pk=invoice_id)
    invoice = invoice_pdf_ensure(invoice=invoice)
    with invoice.pdf.open("rb") as handle:
        return invoice.pdf_filename, handle.read(), "application/pdf"
