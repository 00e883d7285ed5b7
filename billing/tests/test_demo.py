"""seed_demo: trials and active subscriptions for Demo Kunde AG booked by Demo Partner GmbH, and
Direkt GmbH's own; idempotent; the previous month has something to invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import billable_lines
from organizations.models import Organization
from portal.management.commands.seed_demo import seed_all

pytestmark = pytest.mark.django_db


def test_demo_subscriptions_are_complete_and_idempotent():
    seed_all()
    count = Subscription.objects.count()
    seed_all()
    assert Subscription.objects.count() == count

    customer = {
        s.product.sku: s
        for s in Subscription.objects.filter(organization__name="Demo Kunde AG").select_related("product", "payer")
    }
    assert customer["PORTAL-LICENSE"].status == "trial" and customer["PORTAL-LICENSE"].quantity == 2
    shop = customer["MOD-SHOP"]
    assert (shop.source, shop.payer.name, shop.quantity, shop.unit_price) == (
        "partner_order",
        "Demo Partner GmbH",
        3,
        Decimal("21.75"),
    )
    assert customer["ADD-STORAGE"].parent == shop
    assert customer["SRV-SSL"].project.name == "Website Demo Kunde"
    assert customer["SRV-SSL"].payer.name == "Demo Partner GmbH"
    direct = {
        s.product.sku: s
        for s in Subscription.objects.filter(organization__name="Direkt GmbH").select_related("product", "payer")
    }
    assert direct["MOD-CRM"].payer.name == "Direkt GmbH" and direct["MOD-CRM"].unit_price == Decimal("19.90")
    assert direct["SRV-SSL"].source == "service_order"


def test_the_previous_month_has_lines_for_both_recipients():
    seed_all()
    first = timezone.localdate().replace(day=1)
    last_of_previous = first - timezone.timedelta(days=1)
    lines = billable_lines(last_of_previous.replace(day=1), last_of_previous)
    recipients = set(
        Organization.objects.filter(pk__in={line.recipient_id for line in lines}).values_list("name", flat=True)
    )
    assert {"Demo Partner GmbH", "Direkt GmbH"} <= recipients


def test_the_demo_partner_sees_the_customers_subscriptions(client):
    demo = seed_all()
    client.force_login(demo["users"]["partner"])
    response = client.get(reverse("subscription-list", kwargs={"org": demo["orgs"]["customer"].public_id}))
    assert response.status_code == 200 and "MOD-SHOP" in response.content.decode()
    client.force_login(demo["users"]["customer"])
    assert (
        client.get(reverse("subscription-list", kwargs={"org": demo["orgs"]["customer"].public_id})).status_code == 404
    )
