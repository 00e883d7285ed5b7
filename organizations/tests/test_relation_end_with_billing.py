"""ORG-3 across apps: ending a relation (customer page, partner API, support admin) ends what the
partner booked for the customer at once – through the real "customer_relation.ended" hook of billing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services as billing
from billing.models import Subscription
from offers.models import Product
from organizations.models import CustomerRelation
from tests import factories

from .conftest import ctx

pytestmark = pytest.mark.django_db


def _booked(world) -> Subscription:
    product = Product.objects.create(
        sku="MOD-ORG3",
        kind=Product.Kind.MODULE,
        name_en="Module",
        name_de="Modul",
        list_price=Decimal("10.00"),
        term_months=12,
    )
    return billing.subscription_book(
        context=ctx(world.partner_owner, world.customer),
        product=product,
        quantity=2,
        confirm_obligation_to_pay=True,
        actor=world.partner_owner,
    )


def _ended(subscription) -> bool:
    subscription.refresh_from_db()
    return subscription.status == Subscription.Status.CANCELLED and subscription.ends_at is not None


def test_customer_ends_the_relation_on_its_dashboard_and_the_bookings_end(world, client):
    subscription = _booked(world)
    assert not _ended(subscription)
    client.force_login(world.customer_owner)
    response = client.post(reverse("organization-reseller-end", kwargs={"org": world.customer.public_id}))
    assert response.status_code == 302
    assert not CustomerRelation.objects.filter(customer=world.customer, status="active").exists()
    assert _ended(subscription)


def test_partner_ends_it_in_the_api_and_the_bookings_end(world, api_client):
    subscription = _booked(world)
    api_client.force_login(world.partner_admin)
    url = reverse(
        "customer-api-end-relation", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id}
    )
    assert api_client.post(url).status_code == 200
    assert _ended(subscription)


def test_support_ends_it_in_the_admin_and_the_bookings_end(world, client):
    from organizations.support import support_group_sync

    subscription = _booked(world)
    support = factories.UserFactory(is_staff=True)
    support.groups.add(support_group_sync())
    relation = CustomerRelation.objects.get(customer=world.customer, status="active")
    client.force_login(support)
    client.post(
        "/admin/organizations/customerrelation/", {"action": "end_relations", "_selected_action": [relation.pk]}
    )
    assert _ended(subscription)
