"""The contract with the monthly invoice run (BIL-5): `billable_lines` collects the lines to
invoice (one `BillableLine` each, the same class the invoices app issues), in Decimal rounded
half-up per line (BIL-7), in one query."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from billing.money import line_amount, to_cents
from billing.selectors import BillableLine, billable_lines
from offers.models import Product
from organizations.models import Organization
from organizations.roles import OrgRole
from tests import factories

from .conftest import context, product
from .factories import book

pytestmark = pytest.mark.django_db

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def groups(period=NOVEMBER, **kwargs) -> dict[tuple[str, str], list[BillableLine]]:
    """The collected lines per (recipient name, customer name), in the order collected."""
    names = dict(Organization.objects.values_list("pk", "name"))
    result: dict[tuple[str, str], list[BillableLine]] = {}
    for line in billable_lines(*period, **kwargs):
        result.setdefault((names[line.recipient_id], names[line.customer_id]), []).append(line)
    return result


@pytest.mark.parametrize(
    "amount, cents",
    [("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("1.0049999", "1.00")],
)
def test_rounding_is_half_up_to_cents(amount, cents):
    assert to_cents(Decimal(amount)) == Decimal(cents)


def test_a_line_is_rounded_once_not_per_licence():
    # 3 × 0.335 = 1.005 → 1.01 (rounding each licence first would give 3 × 0.34 = 1.02)
    assert line_amount(quantity=3, unit_price=Decimal("0.335")) == Decimal("1.01")
    # 15 of 30 days of 3 × 15.99 = 23.985 → 23.99
    assert line_amount(quantity=3, unit_price=Decimal("15.99"), days=15, period_days=30) == Decimal("23.99")


def test_lines_per_recipient_and_customer(world):
    with time_machine.travel(at(date(2026, 10, 15)), tick=False):
        subscription = book(world, quantity=3)
        book(world, product=world.addon, quantity=2, parent=subscription)
        book(world, organization=world.direct, user=world.direct_owner, quantity=1)
        services.service_order(
            project=world.customer_project,
            product=world.service,
            quantity=1,
            confirm_obligation_to_pay=True,
            actor=world.customer_owner,
        )
    result = groups()
    assert set(result) == {("Partner GmbH", "Kunde AG"), ("Direkt GmbH", "Direkt GmbH")}
    partner_lines = result[("Partner GmbH", "Kunde AG")]
    skus = dict(Product.objects.values_list("pk", "sku"))
    assert [(skus[line.product_id], line.quantity, line.unit_price, line.amount) for line in partner_lines] == [
        ("ADD-STORAGE", 2, Decimal("3.99"), Decimal("7.98")),
        ("MOD-CRM", 3, Decimal("15.99"), Decimal("47.97")),
        ("SRV-SSL", 1, Decimal("6.00"), Decimal("6.00")),
    ]
    assert all((line.period_start, line.period_end) == NOVEMBER for line in partner_lines)
    assert partner_lines[2].project_number == world.customer_project.number
    assert sum(line.net_amount for line in partner_lines) == Decimal("61.95")
    assert [line.amount for line in result[("Direkt GmbH", "Direkt GmbH")]] == [Decimal("19.99")]
    assert all(isinstance(line.amount, Decimal) for lines in result.values() for line in lines)


def test_part_of_the_month_is_charged_pro_rata(world):
    with time_machine.travel(at(date(2026, 11, 16), 9), tick=False):
        subscription = book(world, quantity=3)
    (line,) = groups()[("Partner GmbH", "Kunde AG")]
    assert (line.period_start, line.period_end) == (date(2026, 11, 16), date(2026, 11, 30))
    assert line.amount == Decimal("23.99")  # 3 × 15.99 × 15/30 = 23.985
    # cancelled: in force until its term end (next year), so December is charged in full
    services.subscription_cancel(
        subscription=subscription, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
    )
    (december,) = groups((date(2026, 12, 1), date(2026, 12, 31)))[("Partner GmbH", "Kunde AG")]
    assert december.amount == Decimal("47.97")


def test_the_end_of_a_relation_stops_the_partners_lines_that_day(world):
    with time_machine.travel(at(date(2026, 10, 1)), tick=False):
        book(world, quantity=3)
    with time_machine.travel(at(date(2026, 11, 10), 18), tick=False):
        services.subscriptions_end_for_relation(
            relation=world.customer.reseller_relations.get(), actor=world.partner_owner
        )
    (line,) = groups()[("Partner GmbH", "Kunde AG")]
    assert (line.period_start, line.period_end) == (date(2026, 11, 1), date(2026, 11, 10))
    assert groups((date(2026, 12, 1), date(2026, 12, 31))) == {}


def test_only_one_recipient_can_be_asked_for(world):
    book(world)
    book(world, organization=world.direct, user=world.direct_owner)
    today = timezone.localdate()
    period = (today.replace(day=1), today)
    assert set(groups(period, recipient=world.direct)) == {("Direkt GmbH", "Direkt GmbH")}


def test_bad_periods_are_refused():
    with pytest.raises(ValueError):
        list(billable_lines(date(2026, 11, 30), date(2026, 11, 1)))


def _customers_with_subscriptions(partner, count: int, products):
    customers = []
    for index in range(count):
        customer = factories.OrganizationFactory(name=f"Scale Kunde {index:04d}")
        factories.link(partner, customer)
        customers.append(customer)
    owner = factories.member(partner, OrgRole.OWNER)
    with time_machine.travel(at(date(2026, 10, 2)), tick=False):
        for customer in customers:
            for item in products:
                services.subscription_book(
                    context=context(owner, customer),
                    product=item,
                    quantity=2,
                    confirm_obligation_to_pay=True,
                    actor=owner,
                )
    return customers


def test_the_collection_costs_the_same_queries_for_10_and_100_customers(world):
    products = [world.module, product("MOD-MAIL", price="3.00")]
    counts = []
    for size in (10, 100):
        partner = factories.PartnerFactory(name=f"Scale Partner {size}")
        _customers_with_subscriptions(partner, size, products)
        with CaptureQueriesContext(connection) as queries:
            collected = list(billable_lines(*NOVEMBER, recipient=partner))
        assert len(collected) == 2 * size and len({line.customer_id for line in collected}) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 2, counts
