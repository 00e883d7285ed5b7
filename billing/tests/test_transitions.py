"""The subscription state machine: every allowed transition and the refused ones (409)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from billing import services
from billing.models import Subscription
from portal.errors import Conflict, NotFound
from portal.state_machine import allowed_sources, transition

from .conftest import context
from .factories import book

pytestmark = pytest.mark.django_db

S = Subscription.Status


def test_the_table():
    assert Subscription.TRANSITIONS == {S.TRIAL: {S.EXPIRED}, S.ACTIVE: {S.CANCELLED, S.EXPIRED}}
    assert allowed_sources(Subscription, S.CANCELLED) == {S.ACTIVE}
    assert allowed_sources(Subscription, S.ACTIVE) == set()


@pytest.mark.parametrize(
    "start, target",
    [
        (S.ACTIVE, S.CANCELLED),
        (S.ACTIVE, S.EXPIRED),
        (S.TRIAL, S.EXPIRED),
    ],
)
def test_allowed(world, start, target):
    subscription = book(world)
    Subscription.objects.filter(pk=subscription.pk).update(status=start)
    subscription.refresh_from_db()
    assert transition(subscription, target).status == target


@pytest.mark.parametrize(
    "start, target",
    [
        (S.TRIAL, S.CANCELLED),
        (S.TRIAL, S.ACTIVE),
        (S.CANCELLED, S.ACTIVE),
        (S.CANCELLED, S.EXPIRED),
        (S.CANCELLED, S.CANCELLED),
        (S.EXPIRED, S.ACTIVE),
        (S.EXPIRED, S.CANCELLED),
        (S.EXPIRED, S.TRIAL),
    ],
)
def test_refused(world, start, target):
    subscription = book(world)
    Subscription.objects.filter(pk=subscription.pk).update(status=start)
    subscription.refresh_from_db()
    with pytest.raises(Conflict):
        transition(subscription, target)
    subscription.refresh_from_db()
    assert subscription.status == start


def test_an_expired_fixed_term_cannot_be_cancelled_or_resized(world):
    from datetime import date

    services.subscriptions_from_offer(
        offer_id=1,
        partner=world.partner,
        customer=world.customer,
        actor=None,
        items=[
            {
                "item_id": 1,
                "product_id": world.module.pk,
                "quantity": 2,
                "term_months": 1,
                "license_mode": "absolute",
                "ends_on": date(2099, 1, 1),
                "unit_price": None,
            }
        ],
    )
    subscription = Subscription.objects.get(offer_item_id=1)
    with time_machine.travel(subscription.ends_at + timedelta(seconds=1), tick=False):
        with pytest.raises(Conflict):
            services.subscription_cancel(
                subscription=subscription,
                actor=world.partner_owner,
                context=context(world.partner_owner, world.customer),
            )
        with pytest.raises(Conflict):
            services.subscription_change_quantity(
                subscription=subscription,
                quantity=3,
                actor=world.partner_owner,
                context=context(world.partner_owner, world.customer),
            )
        services.subscriptions_process_due()
    subscription.refresh_from_db()
    assert subscription.status == "expired"


def test_a_subscription_of_another_org_is_not_found_through_a_services_context(world):
    subscription = book(world, organization=world.direct, user=world.direct_owner)
    with pytest.raises(NotFound):
        services.subscription_cancel(
            subscription=subscription, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
        )
    with pytest.raises(NotFound):
        services.subscription_change_quantity(
            subscription=subscription,
            quantity=3,
            actor=world.partner_owner,
            context=context(world.partner_owner, world.customer),
        )
