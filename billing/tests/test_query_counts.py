"""Query budgets: the subscription pages and API lists run the same number of SQL queries for 5
and for 50 subscriptions (data × 10), and for 10 or 100 linked customers across orgs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription
from billing.services import add_months
from offers.models import Product
from tests import factories

pytestmark = pytest.mark.django_db


def add_subscriptions(world, organization, count, *, project=None, payer=None):
    """Rows as the services write them (one product each; every third an add-on of the first)."""
    start = Product.objects.count()
    kind = "service" if project else "module"
    products = Product.objects.bulk_create(
        Product(
            sku=f"BULK-{start + i}", kind=kind, name_en=f"Bulk {i}", name_de=f"Bulk {i}", list_price=Decimal("1.10")
        )
        for i in range(count)
    )
    now = timezone.now()
    main = None
    for index, product in enumerate(products):
        row = Subscription.objects.create(
            organization=organization,
            payer=payer or world.partner,
            product=product,
            project=project,
            source="service_order" if project else "partner_order",
            status="active",
            quantity=index + 1,
            unit_price=Decimal("0.88"),
            term_months=12,
            starts_at=now,
            term_ends_at=add_months(now, 12),
            parent=main if (index % 3 == 2 and not project) else None,
        )
        main = main or row


def count_queries(function) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = function()
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def test_subscription_list_page(world, client):
    client.force_login(world.partner_owner)
    url = reverse("subscription-list", kwargs={"org": world.customer.public_id})
    counts = []
    for size in (5, 45):
        add_subscriptions(world, world.customer, size)
        counts.append(count_queries(lambda: client.get(url)))
    assert counts[0] == counts[1] <= 16, counts


def test_subscription_detail_page_with_add_ons(world, client):
    client.force_login(world.partner_owner)
    add_subscriptions(world, world.customer, 5)
    main = Subscription.objects.filter(parent__isnull=True, source="partner_order").earliest("id")
    url = reverse("subscription-detail", kwargs={"org": world.customer.public_id, "subscription_id": main.pk})
    first = count_queries(lambda: client.get(url))
    add_subscriptions(world, world.customer, 45)
    Subscription.objects.filter(source="partner_order").exclude(pk=main.pk).update(parent=main)
    assert count_queries(lambda: client.get(url)) == first <= 16


@pytest.mark.parametrize("path", ["/api/v1/subscriptions/", "org"])
def test_api_lists(world, api_client, path):
    api_client.force_authenticate(world.partner_owner)
    url = f"/api/v1/organizations/{world.customer.public_id}/subscriptions/" if path == "org" else path
    counts = []
    for size in (5, 45):
        add_subscriptions(world, world.customer, size)
        counts.append(count_queries(lambda: api_client.get(url, {"page_size": 100})))
    assert counts[0] == counts[1] <= 12, counts


def test_cross_org_api_list_with_10_and_100_customers(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    counts = []
    for size in (10, 90):
        for _index in range(size):
            customer = factories.OrganizationFactory()
            factories.link(world.partner, customer)
        counts.append(count_queries(lambda: api_client.get("/api/v1/subscriptions/", {"page_size": 100})))
    assert counts[0] == counts[1] <= 10, counts


def test_project_services_page(world, client):
    client.force_login(world.direct_owner)
    url = reverse("project-services", kwargs={"number": world.direct_project.number})
    counts = []
    for size in (3, 27):
        add_subscriptions(world, world.direct, size, project=world.direct_project, payer=world.direct)
        counts.append(count_queries(lambda: client.get(url)))
    assert counts[0] == counts[1] <= 20, counts
