"""Issue 13, `/api/v1/subscriptions/` for a partner's Owner (9x a bare page at 10,000 customers):
each query of the list worked out the orgs the user reaches again (a COUNT and a page), and the
page joined product, orgs, parent and project onto every one of the 20,000 rows before sorting.
Now the page of bare ids walks the newest-first index against the reach as hashed key sets, the
total is counted up to 1,000 only (`count` null beyond), and one more query loads the page's rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Subscription
from portal.tenancy import Scope, restrict
from tests import factories

from .test_query_counts import add_subscriptions

pytestmark = pytest.mark.django_db


def _spread_created(world):
    """Distinct creation times, so the order is the newest first and nothing else."""
    base = Subscription.objects.order_by("id").first().created_at
    for index, pk in enumerate(Subscription.objects.order_by("id").values_list("pk", flat=True)):
        Subscription.objects.filter(pk=pk).update(created_at=base - timedelta(minutes=(index * 37) % 101))


def _get(api_client, params):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/subscriptions/", params)
    return response, [q["sql"] for q in queries.captured_queries]


def _subscription_queries(sql: list[str]) -> list[str]:
    return [q for q in sql if 'FROM "billing_subscription"' in q and "billing_subscriptionterm" not in q]


def test_issue13_subscription_api_list_pages_bare_ids_and_caps_the_count(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    for _index in range(6):
        customer = factories.OrganizationFactory()
        factories.link(world.partner, customer)
        add_subscriptions(world, customer, 4)
    _spread_created(world)
    restricted = restrict(Subscription.objects.all(), Scope(user=world.partner_owner))
    expected = list(restricted.order_by("-created_at", "-id").values_list("pk", flat=True))
    response, sql = _get(api_client, {"page": 2, "page_size": 10})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == len(expected) >= 24 and data["count_capped"] is False
    assert [row["id"] for row in data["results"]] == expected[10:20]
    assert data["next"] and data["previous"]
    # one ordered read of bare ids up to the cap: the count and the page (the reach's access test
    # runs once, not for a COUNT and again for the page; no window count over the whole reach) …
    subscriptions = _subscription_queries(sql)
    assert len(subscriptions) == 2, subscriptions
    head, rows = subscriptions
    assert "LIMIT 1001" in head and "COUNT(" not in head and "ORDER BY" in head
    assert "OVER ()" not in head and "offers_product" not in head
    # … and the joins only for the page's rows, unordered, without the product's billing
    assert "offers_product" in rows and "ORDER BY" not in rows
    assert not [q for q in sql if "billing_productbilling" in q]


def test_issue13_subscription_api_list_pages_past_the_cap_read_their_own_slice(world, api_client, monkeypatch):
    from portal.api.pagination import CappedCountPagination

    monkeypatch.setattr(CappedCountPagination, "cap", 5)
    api_client.force_authenticate(world.partner_owner)
    add_subscriptions(world, world.customer, 9)
    _spread_created(world)
    restricted = restrict(Subscription.objects.all(), Scope(user=world.partner_owner))
    expected = list(restricted.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert len(expected) > 8
    seen = []
    for number in (1, 2, 3, 4):  # pages 3 and 4 lie past the 6 ids read for the count
        data = api_client.get("/api/v1/subscriptions/", {"page": number, "page_size": 2}).json()
        assert data["count"] is None and data["count_capped"] is True
        seen += [row["id"] for row in data["results"]]
    assert seen == expected[:8]


def test_issue13_subscription_api_list_count_is_capped_at_1000(world, api_client, monkeypatch):
    from portal.api.pagination import CappedCountPagination

    monkeypatch.setattr(CappedCountPagination, "cap", 5)
    api_client.force_authenticate(world.partner_owner)
    add_subscriptions(world, world.customer, 8)
    data = api_client.get("/api/v1/subscriptions/", {"page_size": 2}).json()
    assert data["count"] is None and data["count_capped"] is True and data["next"]


def test_issue13_subscription_api_list_edges_keep_the_paginators_answers(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    add_subscriptions(world, world.customer, 5)
    total = api_client.get("/api/v1/subscriptions/").json()["count"]
    last = api_client.get("/api/v1/subscriptions/", {"page": "last", "page_size": 2}).json()
    assert last["count"] == total and last["next"] is None and len(last["results"]) == (total % 2 or 2)
    for bad in ("999", "0", "x", "-1"):
        response = api_client.get("/api/v1/subscriptions/", {"page": bad})
        assert response.status_code == 404 and "error" in response.json(), bad
    filtered = api_client.get("/api/v1/subscriptions/", {"status": "active", "ordering": "quantity"}).json()
    quantities = [row["quantity"] for row in filtered["results"]]
    assert quantities == sorted(quantities) and filtered["count"] == len(filtered["results"])
    # a user who reaches no billing: an empty page, as before
    api_client.force_authenticate(world.customer_owner)
    assert api_client.get("/api/v1/subscriptions/").json() == {
        "count": 0,
        "count_capped": False,
        "next": None,
        "previous": None,
        "results": [],
    }
