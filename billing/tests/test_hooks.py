"""The contracts with other apps (portal/hooks.py): "offer.accepted" provisions subscriptions once
per offer item (OFR-6, OFR-7); "customer_relation.ended" ends the partner's bookings (ORG-3)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import licences_in_force
from billing.services import add_months, next_period_start, service_order
from organizations.models import AuditEvent, CustomerRelation
from portal.hooks import _HOOKS, run_hooks

from .conftest import context
from .factories import book

pytestmark = pytest.mark.django_db


def items(world, *, first_id=1001):
    return [
        {
            "item_id": first_id,
            "product_id": world.module.pk,
            "quantity": 5,
            "term_months": 12,
            "license_mode": "absolute",
            "ends_on": date(2027, 6, 30),
            "unit_price": Decimal("25.00"),
        },
        {
            "item_id": first_id + 1,
            "product_id": world.addon.pk,
            "quantity": 2,
            "term_months": 6,
            "license_mode": "relative",
            "ends_on": None,
            "unit_price": Decimal("6.00"),
        },
    ]


def accept(world, offer_items):
    run_hooks(
        "offer.accepted",
        offer_id=77,
        partner=world.partner,
        customer=world.customer,
        items=offer_items,
        actor=world.customer_owner,
    )


def test_billing_registers_its_hooks():
    from billing import services

    assert services.trial_start in _HOOKS["organization.created"]
    assert services.subscriptions_from_offer in _HOOKS["offer.accepted"]
    assert services.subscriptions_end_for_relation in _HOOKS["customer_relation.ended"]
    assert services.subscriptions_end_for_archived_org in _HOOKS["organization.archived"]


def test_an_accepted_offer_provisions_each_item_billed_to_the_partner(world):
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 12, 1, 10)), tick=False):
        accept(world, items(world))
        now = timezone.now()
    absolute, relative = Subscription.objects.filter(source="offer").order_by("offer_item_id")
    assert (absolute.organization, absolute.payer, absolute.offer_id) == (world.customer, world.partner, 77)
    assert (absolute.quantity, absolute.unit_price, absolute.resale_unit_price) == (
        5,
        Decimal("15.99"),
        Decimal("25.00"),
    )
    assert timezone.localtime(absolute.ends_at) == timezone.make_aware(timezone.datetime(2027, 7, 1))
    assert not absolute.renews and absolute.license_mode == "absolute"
    assert relative.license_mode == "relative" and relative.ends_at == add_months(now, 6)
    assert AuditEvent.objects.filter(action="subscription.provisioned_from_offer").count() == 2


def test_an_offer_accepted_twice_provisions_nothing_new(world):
    accept(world, items(world))
    accept(world, items(world))
    assert Subscription.objects.filter(source="offer").count() == 2
    assert licences_in_force(organization=world.customer, product=world.module) == 5


def test_ending_the_relation_ends_the_partners_bookings_at_once(world):
    subscription = book(world, quantity=3)
    add_on = book(world, product=world.addon, quantity=1, parent=subscription)
    accept(world, items(world, first_id=5001))
    service = service_order(
        project=world.customer_project,
        product=world.service,
        quantity=2,
        confirm_obligation_to_pay=True,
        actor=world.customer_owner,
    )
    direct = book(world, organization=world.direct, user=world.direct_owner)
    relation = CustomerRelation.objects.get(customer=world.customer)

    with transaction.atomic():
        CustomerRelation.objects.filter(pk=relation.pk).update(status="ended", ended_at=timezone.now())
        run_hooks("customer_relation.ended", relation=relation, actor=world.partner_owner)

    for row in (subscription, add_on):
        row.refresh_from_db()
        assert row.status == "cancelled" and not row.is_in_force(), row
        assert row.end_reason
    assert Subscription.objects.filter(source="offer", payer=world.partner).in_force().count() == 0
    # BIL-8: the customer's ordered service continues; the partner pays it to the end of the
    # month, the customer itself from the next period on, at list price (BIL-4)
    service.refresh_from_db()
    assert service.status == "active" and service.is_in_force() and service.payer == world.partner
    switch = service.terms.order_by("valid_from").last()
    assert (switch.valid_from, switch.payer, switch.unit_price, switch.quantity) == (
        next_period_start(),
        world.customer,
        Decimal("7.50"),
        2,
    )
    assert AuditEvent.objects.filter(action="subscription.payer_switch_scheduled").count() == 2
    # the trial and other orgs are untouched
    assert Subscription.objects.in_force().get(organization=world.customer, source="trial").quantity == 2
    direct.refresh_from_db()
    assert direct.status == "active"
    assert AuditEvent.objects.filter(action="subscription.ended_with_relation").count() == 4
    # running the hook again changes nothing
    run_hooks("customer_relation.ended", relation=relation, actor=world.partner_owner)
    assert AuditEvent.objects.filter(action="subscription.ended_with_relation").count() == 4
    assert AuditEvent.objects.filter(action="subscription.payer_switch_scheduled").count() == 2


def test_a_cancelled_booking_running_to_its_term_end_ends_now_with_the_relation(world):
    from billing.services import subscription_cancel

    subscription = book(world)
    subscription_cancel(
        subscription=subscription, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
    )
    run_hooks("customer_relation.ended", relation=CustomerRelation.objects.get(customer=world.customer), actor=None)
    subscription.refresh_from_db()
    assert not subscription.is_in_force() and subscription.ends_at <= timezone.now()
    assert subscription.ends_at < subscription.term_ends_at - timedelta(days=1)


def test_archiving_an_org_ends_everything_in_force_at_once(world):
    from organizations.models import Organization

    subscription = book(world, quantity=3)
    service = service_order(
        project=world.customer_project,
        product=world.service,
        quantity=1,
        confirm_obligation_to_pay=True,
        actor=world.customer_owner,
    )
    direct = book(world, organization=world.direct, user=world.direct_owner)
    Organization.objects.filter(pk=world.customer.pk).update(status="archived")
    run_hooks("organization.archived", organization=world.customer, actor=world.partner_owner)
    assert licences_in_force(organization=world.customer) == 0
    for row in (subscription, service):
        row.refresh_from_db()
        assert row.status == "cancelled" and row.ends_at <= timezone.now()
    assert AuditEvent.objects.filter(action="subscription.ended_with_archive").count() == 3  # with the trial
    direct.refresh_from_db()
    assert direct.is_in_force()
    run_hooks("organization.archived", organization=world.customer, actor=world.partner_owner)
    assert AuditEvent.objects.filter(action="subscription.ended_with_archive").count() == 3
