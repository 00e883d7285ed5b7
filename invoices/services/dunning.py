"""Dunning, simple (issue 15): overdue marking, payment reminders, marking paid.

- An invoice is due `INVOICE_PAYMENT_TERMS_DAYS` after its invoice date and overdue the day after.
  `dunning_run()` (beat: `invoices.tasks.dunning_run`, daily) marks overdue invoices with one
  conditional UPDATE (`overdue_since` from empty to today; never cleared).
- Reminder level n goes out `DUNNING_REMINDER_DAYS[n-1]` days after the due date, at most once per
  invoice and level (`InvoiceReminder`, unique per invoice and level; the row commits with its
  outbox row). When the job was down for a while only the highest level due is sent, never two.
  The email is queued by the outbox job `invoices.tasks.invoice_reminder_send`, which checks again
  that the invoice is still unpaid.
- Never reminded: paid invoices (`invoice_mark_paid`, support in the admin), credit notes, and
  invoices whose credit notes leave nothing open.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, F, Max, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.audit import audit_event_build, audit_record, audit_record_many
from portal.emails import email_enqueue
from portal.errors import Conflict
from portal.outbox import outbox_enqueue

from ..models import Invoice, InvoiceReminder
from .issuing import ATTACHMENT_KIND

REMINDER_KIND = "invoices.invoice_reminder"


def payment_terms_days() -> int:
    return int(settings.INVOICE_PAYMENT_TERMS_DAYS)


def reminder_days() -> list[int]:
    """Days after the due date for reminder levels 1, 2, …: ascending."""
    return sorted(int(days) for days in settings.DUNNING_REMINDER_DAYS)


def due_on(invoice: Invoice) -> date:
    return timezone.localdate(invoice.issued_at) + timedelta(days=payment_terms_days())


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _open_invoices() -> QuerySet[Invoice]:
    """Unpaid invoices (not credit notes) with something left open after their credit notes."""
    credited = (
        Invoice.objects.filter(corrects=OuterRef("pk"))
        .order_by()
        .values("corrects")
        .annotate(total=Sum("gross_total"))
        .values("total")
    )
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))
    return (
        Invoice.objects.filter(kind=Invoice.Kind.INVOICE, paid_at__isnull=True)
        .alias(open_amount=F("gross_total") + Coalesce(Subquery(credited), zero))
        .filter(open_amount__gt=0)
    )


def invoices_mark_overdue(*, today: date | None = None) -> int:
    """Mark every open invoice whose due date has passed (one conditional UPDATE). Returns how many."""
    today = today or timezone.localdate()
    last_issue_day_due = today - timedelta(days=payment_terms_days())  # due on or before yesterday
    ids = _open_invoices().filter(overdue_since__isnull=True, issued_at__lt=_start_of(last_issue_day_due))
    return Invoice.objects.filter(pk__in=ids.values("pk"), overdue_since__isnull=True, paid_at__isnull=True).update(
        overdue_since=today
    )


def reminders_queue(*, today: date | None = None) -> int:
    """Queue the reminder each overdue invoice is due for and has not had. Returns how many."""
    today = today or timezone.localdate()
    levels = reminder_days()
    if not levels:
        return 0
    terms = payment_terms_days()
    # Issued before this day: at least the first level's days past the due date.
    cutoff = _start_of(today - timedelta(days=terms + levels[0]) + timedelta(days=1))
    candidates = (
        _open_invoices()
        .filter(overdue_since__isnull=False, issued_at__lt=cutoff)
        .annotate(last_level=Max("reminders__level"))
        .only("pk", "number", "issued_at", "recipient_id")
        .order_by("pk")
    )
    queued = 0
    for invoice in candidates:
        days_overdue = (today - due_on(invoice)).days
        level = max(n for n, days in enumerate(levels, start=1) if days_overdue >= days)
        if invoice.last_level is not None and invoice.last_level >= level:
            continue
        queued += _reminder_queue(invoice=invoice, level=level)
    return queued


def _reminder_queue(*, invoice: Invoice, level: int) -> int:
    with transaction.atomic():
        _, created = InvoiceReminder.objects.get_or_create(invoice_id=invoice.pk, level=level)
        if not created:  # a concurrent run was first
            return 0
        outbox_enqueue(
            kind=REMINDER_KIND,
            payload={"invoice_id": invoice.pk, "level": level},
            dedupe_key=f"invoice-reminder-{invoice.pk}-{level}",
        )
        audit_record_many(
            [
                audit_event_build(
                    action="invoice.reminder_queued",
                    target=invoice,
                    target_repr=invoice.number,
                    organization_id=invoice.recipient_id,
                    after={"number": invoice.number, "level": level},
                )
            ]
        )
    return 1


def dunning_run(*, today: date | None = None) -> tuple[int, int]:
    """The daily job: mark overdue invoices, then queue the reminders due. Idempotent."""
    today = today or timezone.localdate()
    return invoices_mark_overdue(today=today), reminders_queue(today=today)


def invoice_reminder_send(payload: dict) -> None:
    """Outbox job: email reminder `level` for the invoice in the recipient's language, with the PDF
    attached – unless it was paid (or fully credited) since it was queued."""
    invoice = Invoice.objects.get(pk=payload["invoice_id"])
    if not _open_invoices().filter(pk=invoice.pk).exists() or not invoice.recipient_email:
        return
    from portal.templatetags.ui import money as money_text

    from .credit_notes import open_amount

    with translation.override(invoice.language):
        from django.utils.formats import date_format

        context = {
            "number": invoice.number,
            "recipient": invoice.recipient_name,
            "level": payload["level"],
            # the pages' formats (issue 16): "2 Dec 2026", "€1,469.06" / "2. Dez. 2026", "1.469,06 €"
            "issued": date_format(timezone.localdate(invoice.issued_at), "DATE_FORMAT"),
            "due": date_format(due_on(invoice), "DATE_FORMAT"),
            "open": money_text(open_amount(invoice), invoice.currency),
            "currency": invoice.currency,
            "issuer": invoice.issuer.get("name", ""),
        }
    email_enqueue(
        to=invoice.recipient_email,
        subject_template="invoices/reminder_subject.txt",
        body_template="invoices/reminder_body.txt",
        context=context,
        language=invoice.language,
        dedupe_key=f"invoice-reminder-email-{invoice.pk}-{payload['level']}",
        attachments=[{"kind": ATTACHMENT_KIND, "id": invoice.pk}],
    )


def invoice_mark_paid(*, invoice: Invoice, actor) -> Invoice:
    """Record that the invoice was paid (support, in the admin): no reminder goes out afterwards."""
    if invoice.kind != Invoice.Kind.INVOICE:
        raise Conflict(_("Only invoices can be marked paid."), code="invoice_not_payable")
    with transaction.atomic():
        marked = Invoice.objects.filter(pk=invoice.pk, kind=Invoice.Kind.INVOICE, paid_at__isnull=True).update(
            paid_at=timezone.now(), paid_by=actor
        )
        if not marked:
            raise Conflict(
                _("Invoice %(number)s is already marked paid.") % {"number": invoice.number}, code="invoice_paid"
            )
        audit_record(
            action="invoice.marked_paid",
            target=invoice,
            actor=actor,
            organization=invoice.recipient,
            after={"number": invoice.number},
        )
    return Invoice.objects.get(pk=invoice.pk)
