"""Races on real PostgreSQL (two threads, two connections): two bookings of the same product end
with one subscription; two quantity changes both apply in order; a double cancel has one winner;
an offer accepted twice at once provisions once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from billing import services
from billing.models import Subscription
from organizations.models import AuditEvent
from portal.errors import Conflict
from tests.races import run_together

from .conftest import context

ROUNDS = 3


def assert_one_winner(results):
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    loser = next(value for kind, value in results if kind == "error")
    assert isinstance(loser, Conflict), repr(loser)


def _book(world, user, quantity):
    return lambda: services.subscription_book(
        context=context(user, world.customer),
        product=world.module,
        quantity=quantity,
        confirm_obligation_to_pay=True,
        actor=user,
    )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_one_product_end_with_one_subscription(world):
    for _round in range(ROUNDS):
        results = run_together(_book(world, world.partner_owner, 2), _book(world, world.partner_admin, 5))
        assert_one_winner(results)
        assert Subscription.objects.filter(product=world.module, status="active").count() == 1
        winner = Subscription.objects.get(product=world.module, status="active")
        assert AuditEvent.objects.filter(action="subscription.booked", target_id=str(winner.pk)).count() == 1
        services.subscription_cancel(
            subscription=winner, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
        )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_quantity_changes_apply_one_after_the_other(world):
    subscription = _book(world, world.partner_owner, 3)()
    for round_number in range(ROUNDS):
        a, b = 10 + round_number * 2, 11 + round_number * 2
        results = run_together(
            lambda: services.subscription_change_quantity(
                subscription=subscription,
                quantity=a,
                actor=world.partner_owner,
                context=context(world.partner_owner, world.customer),
            ),
            lambda: services.subscription_change_quantity(
                subscription=subscription,
                quantity=b,
                actor=world.partner_admin,
                context=context(world.partner_admin, world.customer),
            ),
        )
        assert [kind for kind, _ in results] == ["ok", "ok"], results
        subscription.refresh_from_db()
        assert subscription.quantity in (a, b)
    # the audit trail is a chain: each change's "before" is the previous change's "after"
    events = list(AuditEvent.objects.filter(action="subscription.quantity_changed").order_by("id"))
    assert len(events) == 2 * ROUNDS
    previous = 3
    for event in events:
        assert event.before["quantity"] == previous
        previous = event.after["quantity"]
    assert previous == subscription.quantity


@pytest.mark.django_db(transaction=True)
def test_a_quantity_change_races_a_cancellation(world):
    for _round in range(ROUNDS):
        subscription = _book(world, world.partner_owner, 3)()
        results = run_together(
            lambda: services.subscription_change_quantity(
                subscription=subscription,
                quantity=7,
                actor=world.partner_owner,
                context=context(world.partner_owner, world.customer),
            ),
            lambda: services.subscription_cancel(
                subscription=Subscription.objects.get(pk=subscription.pk),
                actor=world.partner_admin,
                context=context(world.partner_admin, world.customer),
            ),
        )
        subscription.refresh_from_db()
        assert subscription.status == "cancelled"
        kinds = [kind for kind, _ in results]
        # either the change came first (both ok) or the cancellation did (the change loses with 409)
        if kinds == ["error", "ok"]:
            assert isinstance(results[0][1], Conflict) and subscription.quantity == 3
        else:
            assert kinds == ["ok", "ok"] and subscription.quantity == 7


@pytest.mark.django_db(transaction=True)
def test_a_double_cancel_has_one_winner(world):
    subscription = _book(world, world.partner_owner, 3)()
    results = run_together(
        lambda: services.subscription_cancel(
            subscription=Subscription.objects.get(pk=subscription.pk),
            actor=world.partner_owner,
            context=context(world.partner_owner, world.customer),
        ),
        lambda: services.subscription_cancel(
            subscription=Subscription.objects.get(pk=subscription.pk),
            actor=world.partner_admin,
            context=context(world.partner_admin, world.customer),
        ),
    )
    assert_one_winner(results)
    assert AuditEvent.objects.filter(action="subscription.cancelled", target_id=str(subscription.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_offer_provisioned_twice_at_once_counts_once(world):
    items = [
        {
            "item_id": 9001,
            "product_id": world.module.pk,
            "quantity": 4,
            "term_months": 12,
            "license_mode": "absolute",
            "ends_on": date(2030, 1, 31),
            "unit_price": Decimal("30.00"),
        }
    ]

    def accept():
        with transaction.atomic():
            return services.subscriptions_from_offer(
                offer_id=1, partner=world.partner, customer=world.customer, items=items, actor=None
            )

    results = run_together(accept, accept)
    assert all(kind == "ok" for kind, _ in results), results
    assert Subscription.objects.filter(offer_item_id=9001).count() == 1
