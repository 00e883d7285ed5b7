"""Issue 15, item "quantity and price history per subscription" and "payer changes follow the
relation" (BIL-8): table tests of the prorated monthly run. Each case lists what happened, the
states (`SubscriptionTerm` rows) the services wrote, and the lines and total the run collects
for November 2026 (30 days; one line per state, pro rata by days, half-up to cents per line).

Prices: MOD-CRM list 19.99 / partner 15.99, MOD-MONTHLY (1-month term) list 10.00 / partner
8.00, ADD-STORAGE partner 3.99, SRV-SSL list 7.50 / partner 6.00 (Gold tier, 20 %).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services
from billing.models import Subscription
from billing.selectors import billable_lines
from organizations.models import AuditEvent, CustomerRelation, Organization
from organizations.roles import OrgRole
from organizations.services.relations import relation_connect
from tests import factories

from .conftest import context, product
from .factories import book

pytestmark = pytest.mark.django_db

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))
D = Decimal


def at(month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour))


def states(subscription: Subscription) -> list[tuple]:
    """(from, until, quantity, unit price, payer name) per history row, local dates."""

    def day(moment):
        return timezone.localtime(moment).date() if moment else None

    return [
        (day(term.valid_from), day(term.valid_until), term.quantity, term.unit_price, term.payer.name)
        for term in subscription.terms.select_related("payer").order_by("valid_from")
    ]


def lines(period=NOVEMBER) -> tuple[list[tuple], Decimal]:
    """(recipient, SKU, first day, last day, quantity, unit price, amount) per line, and the total."""
    names = dict(Organization.objects.values_list("pk", "name"))
    from offers.models import Product

    skus = dict(Product.objects.values_list("pk", "sku"))
    collected = list(billable_lines(*period))
    rows = [
        (
            names[line.recipient_id],
            skus[line.product_id],
            line.period_start,
            line.period_end,
            int(line.quantity),
            line.unit_price,
            line.net_amount,
        )
        for line in collected
    ]
    return rows, sum((line.net_amount for line in collected), D("0.00"))


@pytest.fixture
def monthly(world):
    monthly = product("MOD-MONTHLY", price="10.00", term_months=1)
    world.addon.billing.add_on_to.add(monthly)  # the storage add-on fits it too
    return monthly


def change(world, subscription, quantity):
    return services.subscription_change_quantity(
        subscription=subscription,
        quantity=quantity,
        actor=world.partner_owner,
        context=context(world.partner_owner, world.customer),
    )


def test_mid_month_increase_bills_each_state_pro_rata(world):
    with time_machine.travel(at(10, 20), tick=False):
        subscription = book(world, quantity=3)
    with time_machine.travel(at(11, 16, 10), tick=False):
        change(world, subscription, 5)
    assert states(subscription) == [
        (date(2026, 10, 20), date(2026, 11, 16), 3, D("15.99"), "Partner GmbH"),
        (date(2026, 11, 16), None, 5, D("15.99"), "Partner GmbH"),
    ]
    assert lines() == (
        [
            ("Partner GmbH", "MOD-CRM", date(2026, 11, 1), date(2026, 11, 15), 3, D("15.99"), D("23.99")),
            ("Partner GmbH", "MOD-CRM", date(2026, 11, 16), date(2026, 11, 30), 5, D("15.99"), D("39.98")),
        ],
        D("63.97"),
    )


@pytest.mark.parametrize(
    "at_term_end, expected_states, expected_lines, total",
    [
        (
            False,  # the product applies reductions at once
            [
                (date(2026, 10, 16), date(2026, 11, 5), 5, D("8.00"), "Partner GmbH"),
                (date(2026, 11, 5), None, 2, D("8.00"), "Partner GmbH"),
            ],
            [
                (date(2026, 11, 1), date(2026, 11, 4), 5, D("5.33")),
                (date(2026, 11, 5), date(2026, 11, 30), 2, D("13.87")),
            ],
            D("19.20"),
        ),
        (
            True,  # the product keeps the licences to the end of the term (16 November)
            [
                (date(2026, 10, 16), date(2026, 11, 16), 5, D("8.00"), "Partner GmbH"),
                (date(2026, 11, 16), None, 2, D("8.00"), "Partner GmbH"),
            ],
            [
                (date(2026, 11, 1), date(2026, 11, 15), 5, D("20.00")),
                (date(2026, 11, 16), date(2026, 11, 30), 2, D("8.00")),
            ],
            D("28.00"),
        ),
    ],
)
def test_mid_month_decrease_at_once_or_at_the_term_end_per_product(
    world, monthly, at_term_end, expected_states, expected_lines, total
):
    monthly.reductions_at_term_end = at_term_end
    monthly.save()
    with time_machine.travel(at(10, 16), tick=False):
        subscription = book(world, product=monthly, quantity=5)
    with time_machine.travel(at(11, 5), tick=False):
        changed = change(world, subscription, 2)
    # the row shows the licences in force now: the reduction waits for the term end where scheduled
    assert changed.quantity == (5 if at_term_end else 2)
    assert states(subscription) == expected_states
    collected, collected_total = lines()
    assert [(first, last, quantity, amount) for _r, _s, first, last, quantity, _p, amount in collected] == (
        expected_lines
    )
    assert collected_total == total
    if at_term_end:
        assert AuditEvent.objects.filter(action="subscription.quantity_change_scheduled").count() == 1
        with time_machine.travel(at(11, 16, 13), tick=False):
            assert services.subscriptions_process_due()["applied"] == 1
            assert services.subscriptions_process_due()["applied"] == 0
        subscription.refresh_from_db()
        assert subscription.quantity == 2


def test_an_increase_withdraws_a_scheduled_reduction(world, monthly):
    monthly.reductions_at_term_end = True
    monthly.save()
    with time_machine.travel(at(10, 16), tick=False):
        subscription = book(world, product=monthly, quantity=5)
    with time_machine.travel(at(11, 5), tick=False):
        change(world, subscription, 2)
    with time_machine.travel(at(11, 10), tick=False):
        change(world, subscription, 6)
    assert [row[2] for row in states(subscription)] == [5, 6, 6]
    assert lines()[1] == D("12.00") + D("33.60")  # 5 × 8 × 9/30, then 6 × 8 × 21/30


def test_cancellation_bills_until_the_end_of_the_term(world, monthly):
    with time_machine.travel(at(10, 10), tick=False):
        subscription = book(world, product=monthly, quantity=3)
    with time_machine.travel(at(11, 3), tick=False):
        services.subscription_cancel(
            subscription=subscription, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
        )
    assert states(subscription) == [(date(2026, 10, 10), date(2026, 11, 10), 3, D("8.00"), "Partner GmbH")]
    assert lines() == (
        [("Partner GmbH", "MOD-MONTHLY", date(2026, 11, 1), date(2026, 11, 10), 3, D("8.00"), D("8.00"))],
        D("8.00"),
    )
    assert lines(DECEMBER) == ([], D("0.00"))


def test_add_on_added_and_removed_mid_month(world, monthly):
    with time_machine.travel(at(10, 21), tick=False):
        main = book(world, product=monthly, quantity=1)
    with time_machine.travel(at(11, 11), tick=False):
        add_on = book(world, product=world.addon, quantity=2, parent=main)
    with time_machine.travel(at(11, 15), tick=False):  # removed: cancelled, ends with the term on 21 Nov
        services.subscription_cancel(
            subscription=add_on, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
        )
    assert states(add_on) == [(date(2026, 11, 11), date(2026, 11, 21), 2, D("3.99"), "Partner GmbH")]
    assert lines() == (
        [
            ("Partner GmbH", "ADD-STORAGE", date(2026, 11, 11), date(2026, 11, 21), 2, D("3.99"), D("2.93")),
            ("Partner GmbH", "MOD-MONTHLY", date(2026, 11, 1), date(2026, 11, 30), 1, D("8.00"), D("8.00")),
        ],
        D("10.93"),
    )


def test_payer_switch_when_a_direct_customer_connects_to_a_reseller(world):
    with time_machine.travel(at(10, 5), tick=False):
        subscription = book(world, organization=world.direct, user=world.direct_owner, quantity=2)
    with time_machine.travel(at(11, 12), tick=False):
        relation_connect(partner=world.partner, customer=world.direct, actor=world.partner_owner)
    assert states(subscription) == [
        (date(2026, 10, 5), date(2026, 12, 1), 2, D("19.99"), "Direkt GmbH"),
        (date(2026, 12, 1), None, 2, D("15.99"), "Partner GmbH"),
    ]
    # November stays the customer's in full, December is the partner's at partner conditions
    assert lines() == (
        [("Direkt GmbH", "MOD-CRM", date(2026, 11, 1), date(2026, 11, 30), 2, D("19.99"), D("39.98"))],
        D("39.98"),
    )
    assert lines(DECEMBER) == (
        [("Partner GmbH", "MOD-CRM", date(2026, 12, 1), date(2026, 12, 31), 2, D("15.99"), D("31.98"))],
        D("31.98"),
    )
    # audited on both sides
    trails = set(
        AuditEvent.objects.filter(action="subscription.payer_switch_scheduled").values_list(
            "organization__name", flat=True
        )
    )
    assert trails == {"Direkt GmbH", "Partner GmbH"}
    # the row follows on the 1st (the periodic job); a second connect hook run changes nothing
    with time_machine.travel(at(12, 1, 1), tick=False):
        services.subscriptions_process_due()
        services.subscriptions_follow_new_reseller(relation=CustomerRelation.objects.get(customer=world.direct))
    subscription.refresh_from_db()
    assert (subscription.payer, subscription.unit_price) == (world.partner, D("15.99"))
    assert len(states(subscription)) == 2


def test_a_relation_ended_before_the_switch_keeps_the_customer_paying(world):
    with time_machine.travel(at(10, 5), tick=False):
        subscription = book(world, organization=world.direct, user=world.direct_owner, quantity=2)
    with time_machine.travel(at(11, 12), tick=False):
        relation = relation_connect(partner=world.partner, customer=world.direct, actor=world.partner_owner)
    with time_machine.travel(at(11, 20), tick=False):
        services.subscriptions_end_for_relation(relation=relation, actor=world.partner_owner)
    assert [row[2:] for row in states(subscription)] == [
        (2, D("19.99"), "Direkt GmbH"),
        (2, D("19.99"), "Direkt GmbH"),
    ]
    assert lines(DECEMBER) == (
        [("Direkt GmbH", "MOD-CRM", date(2026, 12, 1), date(2026, 12, 31), 2, D("19.99"), D("39.98"))],
        D("39.98"),
    )


def test_payer_switch_when_the_relation_ends(world):
    with time_machine.travel(at(10, 5), tick=False):
        service = services.service_order(
            project=world.customer_project,
            product=world.service,
            quantity=2,
            confirm_obligation_to_pay=True,
            actor=world.customer_owner,
        )
    with time_machine.travel(at(11, 20), tick=False):
        services.subscriptions_end_for_relation(
            relation=world.customer.reseller_relations.get(), actor=world.partner_owner
        )
    assert states(service) == [
        (date(2026, 10, 5), date(2026, 12, 1), 2, D("6.00"), "Partner GmbH"),
        (date(2026, 12, 1), None, 2, D("7.50"), "Kunde AG"),
    ]
    assert lines()[0][0][0] == "Partner GmbH" and lines()[1] == D("12.00")
    assert lines(DECEMBER) == (
        [("Kunde AG", "SRV-SSL", date(2026, 12, 1), date(2026, 12, 31), 2, D("7.50"), D("15.00"))],
        D("15.00"),
    )


def test_trial_ending_mid_month_then_a_booking(world):
    with time_machine.travel(at(10, 17), tick=False):
        organization = factories.OrganizationFactory(name="Neu GmbH")
        owner = factories.member(organization, OrgRole.OWNER)
    trial = Subscription.objects.get(organization=organization, source="trial")
    with time_machine.travel(at(11, 16, 14), tick=False):
        services.subscriptions_process_due()
        booked = services.subscription_book(
            context=context(owner, organization),
            product=world.module,
            quantity=3,
            confirm_obligation_to_pay=True,
            actor=owner,
        )
    assert states(trial) == [(date(2026, 10, 17), date(2026, 11, 16), 2, D("0.00"), "Neu GmbH")]
    assert states(booked) == [(date(2026, 11, 16), None, 3, D("19.99"), "Neu GmbH")]
    # the free trial days produce no line; the booking from the day it was made
    assert lines() == (
        [("Neu GmbH", "MOD-CRM", date(2026, 11, 16), date(2026, 11, 30), 3, D("19.99"), D("29.99"))],
        D("29.99"),
    )
