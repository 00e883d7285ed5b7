"""BIL-5 end to end: subscriptions → `billing.selectors.billable_lines` → the monthly run."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services
from invoices.models import Invoice
from invoices.selectors import invoice_sections
from invoices.services.issuing import invoice_monthly_run
from invoices.tasks import invoice_monthly_run as monthly_run_task

from .factories import book

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def test_the_monthly_run_invoices_partner_and_direct_customers_from_their_subscriptions(world, media_roots):
    with time_machine.travel(at(date(2026, 9, 20)), tick=False):
        module = book(world, quantity=3)  # partner books for its linked customer: the partner pays
        book(world, product=world.addon, quantity=2, parent=module)
        book(world, organization=world.direct, user=world.direct_owner, quantity=1)
        services.service_order(
            project=world.customer_project,
            product=world.service,
            quantity=1,
            confirm_obligation_to_pay=True,
            actor=world.customer_owner,
        )

    with time_machine.travel(at(date(2026, 11, 1), 3), tick=False):
        assert monthly_run_task() == 2  # the beat task: October's invoices
        assert monthly_run_task() == 0  # twice → nothing new

    partner_invoice = Invoice.objects.get(recipient=world.partner)
    direct_invoice = Invoice.objects.get(recipient=world.direct)
    assert (partner_invoice.period_start, partner_invoice.period_end) == (date(2026, 10, 1), date(2026, 10, 31))
    [section] = invoice_sections(invoice=partner_invoice)
    assert section.customer_name == world.customer.name and len(section.lines) == 3
    assert {line.customer for line in direct_invoice.lines.all()} == {world.direct}
    assert any(world.customer_project.number in line.description for line in section.lines)
    # Totals are the rounded lines, VAT 19 % on the net total.
    assert partner_invoice.net_total == sum(line.net_amount for line in section.lines)
    assert partner_invoice.vat_amount == (partner_invoice.net_total * Decimal("0.19")).quantize(Decimal("0.01"))
    # Trials (every new org has one, BIL-2) are free and never invoiced.
    assert not Invoice.objects.filter(recipient__in=[world.customer, world.agency]).exists()


def test_a_partner_pays_pro_rata_for_part_of_the_month(world):
    with time_machine.travel(at(date(2026, 10, 16)), tick=False):
        book(world, quantity=1)
    assert invoice_monthly_run(today=date(2026, 11, 1)) == 1
    line = Invoice.objects.get(recipient=world.partner).lines.get()
    assert line.period_start == date(2026, 10, 16) and line.period_end == date(2026, 10, 31)
    assert line.net_amount == (line.quantity * line.unit_price * Decimal(16) / Decimal(31)).quantize(Decimal("0.01"))
