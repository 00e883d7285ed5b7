"""BIL-3 and BIL-4: partner bookings at partner conditions behind an explicit confirmation,
quantity changes, cancellation at the end of the term; who pays."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.models import Subscription
from billing.selectors import licences_in_force
from organizations.models import AuditEvent
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied

from .conftest import context
from .factories import book

pytestmark = pytest.mark.django_db


def test_partner_books_for_its_customer_at_partner_conditions_and_pays(world):
    subscription = book(world, quantity=3)
    assert subscription.organization == world.customer
    assert subscription.payer == world.partner  # BIL-4, set by the service
    assert subscription.source == "partner_order"
    assert subscription.unit_price == Decimal("15.99")  # 19.99 less 20 %, half-up to cents
    assert subscription.status == "active" and subscription.renews and subscription.ends_at is None
    assert licences_in_force(organization=world.customer, product=world.module) == 3
    event = AuditEvent.objects.get(action="subscription.booked")
    assert (event.organization, event.acting_organization, event.actor) == (
        world.customer,
        world.partner,
        world.partner_owner,
    )


def test_an_individual_discount_overrides_the_tier(world):
    condition = world.partner.partner_condition
    condition.discount_override_percent = Decimal("33.33")
    condition.save()
    assert book(world).unit_price == Decimal("13.33")  # 19.99 × 0.6667 = 13.327…


def test_a_direct_customer_books_for_itself_at_list_price(world):
    subscription = book(world, organization=world.direct, user=world.direct_owner)
    assert subscription.payer == world.direct
    assert subscription.source == "direct_order"
    assert subscription.unit_price == Decimal("19.99")


@pytest.mark.parametrize("confirmation", [False, None, "true", 1, "yes"])
def test_booking_needs_the_explicit_confirmation(world, confirmation):
    with pytest.raises(InvalidInput) as error:
        services.subscription_book(
            context=context(world.partner_owner, world.customer),
            product=world.module,
            quantity=1,
            confirm_obligation_to_pay=confirmation,
            actor=world.partner_owner,
        )
    assert error.value.field == "confirm_obligation_to_pay"
    assert not Subscription.objects.exclude(source="trial").exists()


@pytest.mark.parametrize("quantity", [0, -1, "two", None, 10_001, "1.5"])
def test_bad_quantities_are_refused(world, quantity):
    with pytest.raises(InvalidInput) as error:
        book(world, quantity=quantity)
    assert error.value.field == "quantity"


def test_an_unavailable_product_cannot_be_booked(world):
    world.module.is_active = False
    world.module.save()
    with pytest.raises(InvalidInput):
        book(world)


def test_the_customers_own_accounts_cannot_book(world):
    # ORG-6: in a partner-linked org the area does not exist for the customer (Owner included).
    for user in (world.customer_owner, world.customer_admin):
        with pytest.raises(NotFound):
            services.subscription_book(
                context=context(user, world.customer),
                product=world.module,
                quantity=1,
                confirm_obligation_to_pay=True,
                actor=user,
            )


def test_partner_members_cannot_book(world):
    from tests import factories

    factories.assign(world.partner_member, world.partner, world.customer)
    with pytest.raises(PermissionDenied):
        services.subscription_book(
            context=context(world.partner_member, world.customer),
            product=world.module,
            quantity=1,
            confirm_obligation_to_pay=True,
            actor=world.partner_member,
        )


def test_booking_the_same_product_twice_is_a_conflict(world):
    book(world)
    with pytest.raises(Conflict):
        book(world)
    assert Subscription.objects.filter(product=world.module).count() == 1


def test_quantity_change_is_audited(world):
    subscription = book(world, quantity=3)
    services.subscription_change_quantity(
        subscription=subscription,
        quantity=7,
        actor=world.partner_admin,
        context=context(world.partner_admin, world.customer),
    )
    subscription.refresh_from_db()
    assert subscription.quantity == 7
    event = AuditEvent.objects.get(action="subscription.quantity_changed")
    assert (event.before["quantity"], event.after["quantity"]) == (3, 7)


def test_cancellation_runs_until_the_end_of_the_term(world):
    subscription = book(world)
    add_on = book(world, product=world.addon, quantity=2, parent=subscription)
    services.subscription_cancel(
        subscription=subscription, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
    )
    subscription.refresh_from_db()
    add_on.refresh_from_db()
    assert subscription.status == "cancelled" and not subscription.renews
    assert subscription.ends_at == subscription.term_ends_at
    assert add_on.status == "cancelled" and add_on.ends_at == subscription.ends_at
    assert licences_in_force(organization=world.customer, product=world.module) == 3  # until the term ends
    with time_machine.travel(subscription.ends_at, tick=False):
        assert licences_in_force(organization=world.customer, product=world.module) == 0
        assert licences_in_force(organization=world.customer, product=world.addon) == 0
    # cancelled twice: the second one loses
    with pytest.raises(Conflict):
        services.subscription_cancel(
            subscription=subscription, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
        )
    # a cancelled subscription keeps its size
    with pytest.raises(Conflict):
        services.subscription_change_quantity(
            subscription=subscription,
            quantity=9,
            actor=world.partner_owner,
            context=context(world.partner_owner, world.customer),
        )


def test_after_cancelling_the_product_can_be_booked_again(world):
    subscription = book(world)
    services.subscription_cancel(
        subscription=subscription, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
    )
    again = book(world, quantity=1)
    assert again.pk != subscription.pk


def test_add_ons_follow_their_main_subscription(world):
    subscription = book(world)
    add_on = book(world, product=world.addon, quantity=2, parent=subscription)
    assert (add_on.parent, add_on.term_ends_at, add_on.payer) == (
        subscription,
        subscription.term_ends_at,
        world.partner,
    )
    with pytest.raises(InvalidInput):
        book(world, product=world.module, parent=subscription)  # the same product as its parent
    with pytest.raises(InvalidInput):
        book(world, product=world.service, parent=add_on)  # no add-ons to add-ons
    other = book(world, organization=world.direct, user=world.direct_owner)
    with pytest.raises(InvalidInput):
        book(world, product=world.addon, parent=other)  # another org's subscription


def test_a_trial_keeps_its_size(world):
    trial = Subscription.objects.get(organization=world.customer, source="trial")
    with pytest.raises(Conflict):
        services.subscription_change_quantity(
            subscription=trial,
            quantity=5,
            actor=world.partner_owner,
            context=context(world.partner_owner, world.customer),
        )
    with pytest.raises(Conflict):
        services.subscription_cancel(
            subscription=trial, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
        )


def test_renewal_starts_the_next_term(world):
    subscription = book(world)
    with time_machine.travel(subscription.term_ends_at + timedelta(hours=1), tick=False):
        assert licences_in_force(organization=world.customer, product=world.module) == 3
        assert services.subscriptions_process_due()["renewed"] == 1
        assert services.subscriptions_process_due()["renewed"] == 0
    previous_end = subscription.term_ends_at
    subscription.refresh_from_db()
    assert subscription.term_ends_at == services.add_months(previous_end, 12)
