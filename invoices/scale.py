"""Bulk invoices for `manage.py seed_scale`: the scale partner's invoice for last month with one
line per customer (10,000 lines at full scale), the large invoice of the invoice pages, the API
and the PDF. Runs after billing's scale data (its subscriptions give product and price).
Idempotent: the real issuing service issues an invoice once per recipient and period."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from billing.models import Subscription
from billing.selectors import BillableLine
from portal.models import OutboxMessage

from .models import Invoice
from .services.issuing import invoices_issue, previous_month


def seed_scale(*, partner, customers, projects, users, accounts, scale, stdout) -> None:
    booking = Subscription.objects.filter(payer=partner).exclude(organization=partner).select_related("product").first()
    if booking is None:
        stdout.write("no partner bookings: no partner invoice seeded")
        return
    _partner_invoice(
        partner=partner, customers=customers, product=booking.product, price=booking.unit_price, stdout=stdout
    )


def _partner_invoice(*, partner, customers, product, price, stdout) -> None:
    """Last month's invoice to the partner, one line per customer, issued by the real service.
    Its PDF is not rendered here: that is what the benchmark measures (scripts/bench.py)."""
    period_start, period_end = previous_month(timezone.localdate())
    lines = [
        BillableLine(
            recipient_id=partner.pk,
            customer_id=customer.pk,
            product_id=product.pk,
            quantity=Decimal(1 + index % 5),
            unit_price=price,
            period_start=period_start,
            period_end=period_end,
        )
        for index, customer in enumerate(customers)
    ]
    issued = invoices_issue(period_start=period_start, period_end=period_end, lines=lines)
    # No PDF rendering and email on commit: drop the delivery rows the issuing queued.
    OutboxMessage.objects.filter(payload__invoice_id__in=[invoice.pk for invoice in issued]).delete()
    invoice = Invoice.objects.filter(recipient=partner, period_start=period_start).first()
    if invoice is not None:
        stdout.write(f"invoice {invoice.number} to {partner.name} with {invoice.lines.count()} lines")
