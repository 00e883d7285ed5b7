"""Credit notes: cancelling an issued invoice in full or in part (issue 15).

A credit note is an `Invoice` row with `kind="credit_note"` that `corrects` the invoice it
cancels: negative lines and totals, the corrected invoice's recipient, issuer, VAT treatment and
period as printed there, and its own gapless yearly number series `GS-2026-000001`. The number
comes from the same counter mechanism as invoices (`issuing._lock_counter`, a row per series and
year locked with SELECT … FOR UPDATE), so concurrent credit notes wait for each other and a
rolled-back one leaves no gap.

The corrected invoice is never modified: what remains open on it is its gross total plus the
(negative) totals of its credit notes. Delivery (PDF once, email with the PDF) is the invoices'
own outbox job (`issuing.DELIVER_KIND`).

Called by support in the admin (`InvoiceAdmin`) and by billing code; not by tenant users.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing import money
from portal.audit import audit_record
from portal.errors import Conflict, InvalidInput
from portal.outbox import outbox_enqueue

from ..models import Invoice, InvoiceCustomerTotal, InvoiceLine, customer_totals_build
from .issuing import DELIVER_KIND, _lock_counter, invoice_number


@dataclass(frozen=True)
class CreditLine:
    """Credit (part of) line `position` of the corrected invoice: `quantity` of it, or all of it."""

    position: int
    quantity: Decimal | None = None


def credited_total(invoice: Invoice) -> Decimal:
    """The gross amount credited on `invoice` so far (positive)."""
    total = invoice.credit_notes.aggregate(total=Sum("gross_total"))["total"]
    return -(total or Decimal("0"))


def open_amount(invoice: Invoice) -> Decimal:
    """What remains of the invoice's gross total after its credit notes."""
    return invoice.gross_total - credited_total(invoice)


def credit_note_issue(*, invoice: Invoice, lines: list[CreditLine] | None = None, reason: str, actor=None) -> Invoice:
    """Issue a credit note cancelling `invoice` in full (`lines=None`) or the given lines in part.

    Refuses (domain errors): a credit note as `invoice`, a row that is not an issued invoice,
    no reason, unknown positions or quantities beyond the line's, and more than remains open on
    the invoice after its earlier credit notes.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the credit note."), field="reason")
    if invoice.pk is None or invoice._state.adding:
        raise Conflict(_("Only issued invoices can be credited."), code="invoice_not_issued")
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        raise Conflict(_("A credit note cannot be credited."), code="credit_note_of_credit_note")

    issued_at = timezone.now()
    year = timezone.localtime(issued_at).year
    with transaction.atomic():
        # The invoice row first (two credit notes of one invoice wait here), then the series counter.
        original = Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
        if original is None or not original.number:
            raise Conflict(_("Only issued invoices can be credited."), code="invoice_not_issued")
        original_lines = {line.position: line for line in original.lines.all()}
        built = _credit_lines(original_lines, lines)
        totals = money.totals(line_amounts=[line.net_amount for line in built], vat_rate=original.vat_rate)
        if totals.gross >= 0:
            raise InvalidInput(_("The credit note would credit nothing."), code="credit_note_empty")
        remaining = open_amount(original)
        if -totals.gross > remaining:
            raise Conflict(
                _("Only %(open)s %(currency)s remain open on invoice %(number)s; this credit note is %(amount)s.")
                % {
                    "open": money.format_amount(remaining),
                    "currency": original.currency,
                    "number": original.number,
                    "amount": money.format_amount(-totals.gross),
                },
                code="credit_note_exceeds_open_amount",
            )

        counter = _lock_counter(year, Invoice.Kind.CREDIT_NOTE)
        sequence = counter.last_number + 1
        note = Invoice(
            kind=Invoice.Kind.CREDIT_NOTE,
            corrects=original,
            reason=reason[:300],
            number=invoice_number(year=year, sequence=sequence, kind=Invoice.Kind.CREDIT_NOTE),
            year=year,
            sequence=sequence,
            recipient_id=original.recipient_id,
            period_start=original.period_start,
            period_end=original.period_end,
            issued_at=issued_at,
            currency=original.currency,
            language=original.language,
            recipient_name=original.recipient_name,
            recipient_street=original.recipient_street,
            recipient_postcode=original.recipient_postcode,
            recipient_city=original.recipient_city,
            recipient_country=original.recipient_country,
            recipient_vat_id=original.recipient_vat_id,
            recipient_email=original.recipient_email,
            issuer=original.issuer,
            payment_method_text=_refund_text(original),
            vat_treatment=original.vat_treatment,
            vat_rate=original.vat_rate,
            vat_note=original.vat_note,
            net_total=totals.net,
            vat_amount=totals.vat,
            gross_total=totals.gross,
        )
        note.save()
        for position, line in enumerate(built, start=1):
            line.invoice = note
            line.position = position
        InvoiceLine.objects.bulk_create(built)
        InvoiceCustomerTotal.objects.bulk_create(customer_totals_build(built))  # issue 13
        type(counter).objects.filter(pk=counter.pk).update(last_number=sequence)

        audit_record(
            action="invoice.credit_note_issued",
            target=note,
            actor=actor,
            organization=original.recipient,
            after={
                "number": note.number,
                "corrects": original.number,
                "reason": note.reason,
                "net": str(note.net_total),
                "vat": str(note.vat_amount),
                "gross": str(note.gross_total),
            },
        )
        outbox_enqueue(kind=DELIVER_KIND, payload={"invoice_id": note.pk}, dedupe_key=f"invoice-deliver-{note.pk}")
    return note


def _credit_lines(original_lines: dict[int, InvoiceLine], lines: list[CreditLine] | None) -> list[InvoiceLine]:
    if lines is None:
        lines = [CreditLine(position=position) for position in sorted(original_lines)]
    if not lines:
        raise InvalidInput(_("Choose at least one line to credit."), code="credit_note_empty")
    built, seen = [], set()
    for credit in lines:
        line = original_lines.get(credit.position)
        if line is None or credit.position in seen:
            raise InvalidInput(
                _("Line %(position)s is not on the invoice or was chosen twice.") % {"position": credit.position},
                code="credit_note_line_unknown",
            )
        seen.add(credit.position)
        quantity = line.quantity if credit.quantity is None else Decimal(credit.quantity)
        if quantity <= 0 or quantity > line.quantity:
            raise InvalidInput(
                _("The quantity to credit on line %(position)s must be more than 0 and at most %(quantity)s.")
                % {"position": credit.position, "quantity": line.quantity},
                code="credit_note_quantity",
            )
        # The whole line: exactly its amount (no re-rounding); a part: quantity × unit price.
        amount = line.net_amount if quantity == line.quantity else money.to_cents(quantity * line.unit_price)
        built.append(
            InvoiceLine(
                position=0,
                customer_id=line.customer_id,
                customer_name=line.customer_name,
                product_id=line.product_id,
                description=line.description,
                quantity=quantity,
                unit_price=-line.unit_price,
                period_start=line.period_start,
                period_end=line.period_end,
                net_amount=-amount,
            )
        )
    return built


def _refund_text(invoice: Invoice) -> str:
    with translation.override(invoice.language):
        return _("The amount credited is refunded or offset against the open amount of invoice %(number)s.") % {
            "number": invoice.number
        }
