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

from portal.statements import executed_sql

from .conftest import context, product
from .factories import book

pytestmark = pytest.mark.django_db

# A column that only a whole joined org would select.
WHOLE_ORG = '"billing_email"'


def _queries(client, url, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    # a compiled statement's text for its EXECUTE (portal.statements)
    return [executed_sql(q["sql"]) for q in captured.captured_queries], response


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


def _tables_joined(sql: str, table: str) -> int:
    return sql.count(f'JOIN "{table}"')


def test_issue13_subscription_list_page_reads_its_rows_without_the_org_or_the_payer(world, client):
    main = book(world)
    book(world, product=world.addon, quantity=2, parent=main)
    client.force_login(world.partner_owner)
    sql, response = _queries(client, reverse("subscription-list", kwargs={"org": world.customer.public_id}))
    [rows] = [q for q in sql if q.startswith('SELECT "billing_subscription"."id"')]
    # the org is the page's own and the payer is not in the table: neither is joined
    assert _tables_joined(rows, "organizations_organization") == 0
    assert '"billing_subscription"."end_reason"' not in rows  # only the columns the table shows
    page = response.content.decode()
    assert f"Add-on to {world.module.name_en}" in page and world.addon.sku in page


def test_issue13_subscription_detail_page_reads_its_subscription_unordered_without_its_org(world, client):
    main = book(world)
    client.force_login(world.partner_owner)
    url = reverse("subscription-detail", kwargs={"org": world.customer.public_id, "subscription_id": main.pk})
    sql, response = _queries(client, url)
    [row] = [q for q in sql if re.search(r'"billing_subscription"\."id" = \d+', q)]
    assert _tables_joined(row, "organizations_organization") == 1  # the payer only
    assert "ORDER BY" not in row
    page = response.content.decode()
    assert world.partner.name in page and world.module.name_en in page


def test_issue13_billing_pages_read_the_reseller_only_for_the_org_context(world, client):
    client.force_login(world.partner_owner)
    book(world)
    for url in (
        reverse("subscription-list", kwargs={"org": world.customer.public_id}),
        reverse("project-services", kwargs={"number": world.customer_project.number}),
    ):
        sql, response = _queries(client, url)
        relations = [q for q in sql if q.startswith('SELECT "organizations_customerrelation"')]
        assert len(relations) == 1, url  # the org context's, which the payer comes from (BIL-4)
        assert world.partner.name in response.content.decode()
    # a partner never has a reseller: it pays itself, nothing to read
    sql, response = _queries(client, reverse("subscription-list", kwargs={"org": world.partner.public_id}))
    assert not [q for q in sql if q.startswith('SELECT "organizations_customerrelation"')]
    assert f"Invoice recipient: {world.partner.name} (this organization)." in response.content.decode()


def test_issue13_project_services_page_reads_the_services_with_their_product_only_and_the_catalog_once(world, client):
    from billing import services

    services.service_order(
        project=world.direct_project,
        product=world.service,
        quantity=2,
        confirm_obligation_to_pay=True,
        actor=world.direct_owner,
    )
    client.force_login(world.direct_owner)
    sql, response = _queries(client, reverse("project-services", kwargs={"number": world.direct_project.number}))
    [rows] = [q for q in sql if q.startswith('SELECT "billing_subscription"."id"')]
    assert _tables_joined(rows, "offers_product") == 1 and _tables_joined(rows, "organizations_organization") == 0
    # the booking form's product select: one read of the catalog, not one per pass over its choices
    assert len([q for q in sql if 'FROM "offers_product"' in q and "billing_subscription" not in q]) == 1
    page = response.content.decode()
    assert world.service.name_en in page and f'value="{world.service.pk}"' in page


@pytest.mark.parametrize("language", ["en", "de"])
def test_issue13_subscription_api_list_builds_no_model_rows_and_shows_what_the_detail_shows(
    world, api_client, language
):
    from django.db.models.signals import post_init

    from billing import services
    from billing.models import Subscription

    main = book(world)
    book(world, product=world.addon, quantity=2, parent=main)
    cancelled = book(world, product=product("MOD-OLD", price="1.05"), quantity=7)
    services.subscription_cancel(
        subscription=cancelled, actor=world.partner_owner, context=context(world.partner_owner, world.customer)
    )
    services.service_order(
        project=world.customer_project,
        product=world.service,
        quantity=1,
        confirm_obligation_to_pay=True,
        actor=world.partner_owner,
    )
    world.partner_owner.language = language
    world.partner_owner.save(update_fields=["language"])
    api_client.force_authenticate(world.partner_owner)
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance)

    post_init.connect(count, sender=Subscription)
    try:
        listed = api_client.get("/api/v1/subscriptions/").json()["results"]
    finally:
        post_init.disconnect(count, sender=Subscription)
    assert built == []  # the page's rows as plain values
    assert len(listed) == 5  # with the customer's trial
    assert {row["status"] for row in listed} >= {"active", "cancelled"}
    assert any(row["ends_at"] and row["cancelled_at"] for row in listed)
    assert any(row["project"] == world.customer_project.number for row in listed)
    for row in listed:
        assert row == api_client.get(f"/api/v1/subscriptions/{row['id']}/").json()
    names = {row["product"]["name"] for row in listed}
    assert (world.module.name_de if language == "de" else world.module.name_en) in names
