"""Issue 13 (scale): what the subscription pages and the API read for one subscription.

The bench measures the time; these pin the shape that keeps it low: the detail page's add-ons
without the joins they share with their main subscription, the API's rows without whole orgs or
the product's billing (the representation shows neither)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .factories import book

pytestmark = pytest.mark.django_db

# A column that only a whole joined org would select.
WHOLE_ORG = '"billing_email"'


def _queries(client, url, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in captured.captured_queries], response


def test_issue13_subscription_detail_reads_its_add_ons_without_joining_itself_again(world, client):
    main = book(world)
    first = book(world, product=world.addon, quantity=2, parent=main)
    client.force_login(world.partner_owner)
    detail = reverse("subscription-detail", kwargs={"org": world.customer.public_id, "subscription_id": main.pk})
    sql, response = _queries(client, detail)
    # the add-ons are `main`'s own: neither their parent nor their org joined once more
    [add_ons] = [q for q in sql if re.search(r'WHERE \(?"billing_subscription"\."parent_id" = ', q)]
    assert 'JOIN "billing_subscription"' not in add_ons
    assert '("billing_subscription"."organization_id" = ' not in add_ons
    page = response.content.decode()
    assert "Add-ons" in page and f'data-parent="{main.pk}"' in page
    assert f"Add-on to {world.module.name_en}" in page  # the parent's product, from `main`
    first_link = reverse("subscription-detail", kwargs={"org": world.customer.public_id, "subscription_id": first.pk})
    assert first_link in page


def test_issue13_subscription_api_reads_only_what_it_shows(world, api_client):
    main = book(world)
    book(world, product=world.addon, quantity=2, parent=main)
    api_client.force_authenticate(world.partner_owner)
    for url in (
        "/api/v1/subscriptions/",
        f"/api/v1/subscriptions/{main.pk}/",
        f"/api/v1/organizations/{world.customer.public_id}/subscriptions/{main.pk}/",
    ):
        sql, response = _queries(api_client, url)
        rows = [q for q in sql if 'FROM "billing_subscription"' in q and '"billing_subscription"."quantity"' in q]
        assert rows and all(WHOLE_ORG not in q for q in rows), url
        assert not [q for q in sql if "billing_productbilling" in q], url
    # one subscription across orgs: the per-row rule only, not the list's reach built as well
    sql, _ = _queries(api_client, f"/api/v1/subscriptions/{main.pk}/")
    assert not [q for q in sql if q.startswith('SELECT "organizations_membership"')]
    data = api_client.get(f"/api/v1/subscriptions/{main.pk}/").json()
    assert data["organization"] == {"public_id": world.customer.public_id, "name": world.customer.name}
    assert data["payer"] == {"public_id": world.partner.public_id, "name": world.partner.name}
    assert data["product"]["sku"] == world.module.sku and data["parent"] is None and data["in_force"] is True
