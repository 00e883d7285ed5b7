"""Issue 13 (scale), partner offer list: the item count and total are computed for the page's
offers only, and the paginator's COUNT has no GROUP BY – checked in PostgreSQL's own plan."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from offers.models import Offer, OfferItem

from . import factories as of

pytestmark = pytest.mark.django_db

PAGE = 25


def _clone_offers(offer: Offer, count: int) -> None:
    """`count` more offers like `offer` (with its items), in bulk: the plan is what matters here."""
    items = list(offer.items.all())
    for _ in range(count):
        offer.pk = None
        offer.save()
        for item in items:
            item.pk = None
            item.offer = offer
        OfferItem.objects.bulk_create(items)


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def test_issue13_offer_list_aggregates_only_the_page(world, client):
    first = of.offer(world.partner, world.customer)
    per_offer = first.items.count()
    assert per_offer >= 1
    _clone_offers(first, 4 * PAGE)
    client.force_login(world.partner_owner)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("offer-list", kwargs={"org": world.partner.public_id}))
    assert response.status_code == 200
    rows = response.context["object_list"]
    assert len(rows) == PAGE and all(row.item_count == per_offer for row in rows)

    sqls = [q["sql"] for q in captured.captured_queries if 'FROM "offers_offer"' in q["sql"]]
    counts = [sql for sql in sqls if sql.startswith("SELECT COUNT(*)")]
    assert counts, sqls
    for sql in counts:  # the paginator's count: no GROUP BY, no items
        assert "GROUP BY" not in sql and "offers_offeritem" not in sql, sql
    (page_sql,) = [sql for sql in sqls if "LIMIT" in sql and "offers_offeritem" in sql]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + page_sql)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    item_scans = [node for node in _plan_nodes(plan[0]["Plan"]) if node.get("Relation Name") == "offers_offeritem"]
    assert item_scans
    # Old code: one join over every item of the partner's offers (101 × items), then GROUP BY.
    read = sum(node["Actual Rows"] * node["Actual Loops"] for node in item_scans)
    assert read <= 2 * PAGE * per_offer, json.dumps(plan, indent=1)[:4000]
    assert all(node["Actual Loops"] <= PAGE for node in item_scans)


def test_issue13_offer_api_list_counts_up_to_the_cap_and_sums_items_once(world, api_client, monkeypatch):
    """Old code: `count` was an exact COUNT over all of a partner's offers (200,000 at scale), and
    the page query also summed every row's items although the serializer sums the prefetched ones."""
    from portal.api.pagination import CappedCountPagination

    first = of.offer(world.partner, world.customer)
    _clone_offers(first, 30)
    monkeypatch.setattr(CappedCountPagination, "cap", 10)
    api_client.force_authenticate(world.partner_owner)
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(f"/api/v1/organizations/{world.partner.public_id}/offers/?page_size=5")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] is None and body["count_capped"] is True and body["next"]
    expected = sum((item.total_price for item in first.items.all()), Decimal("0.00"))
    assert all(Decimal(row["total"]) == expected for row in body["results"])
    sqls = [q["sql"] for q in captured.captured_queries if 'FROM "offers_offer"' in q["sql"]]
    counts = [sql for sql in sqls if "COUNT(" in sql and "offers_offeritem" not in sql]
    assert counts and all("LIMIT 11" in sql for sql in counts), counts
    (page_sql,) = [sql for sql in sqls if sql.startswith('SELECT "offers_offer"."id"')]
    assert "offers_offeritem" not in page_sql, page_sql


def test_issue13_template_editor_does_not_count_the_offers_sent_from_it(world, client):
    """Old code: `template.offers.count()` on every visit (200,000 offers from the scale template),
    shown nowhere."""
    first = of.offer(world.partner, world.customer)
    client.force_login(world.partner_owner)
    url = reverse("offer-template-detail", kwargs={"org": world.partner.public_id, "template_id": first.template_id})
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert not [q["sql"] for q in captured.captured_queries if 'COUNT(*) AS "__count" FROM "offers_offer"' in q["sql"]]


def test_issue13_send_page_counts_the_customers_up_to_the_cap(world, client):
    """Old code: an exact COUNT of the partner's customers (10,000 at scale) for the picker's pages."""
    from portal.pagination import COUNT_CAP

    client.force_login(world.partner_owner)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("offer-send", kwargs={"org": world.partner.public_id}))
    assert response.status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if 'FROM "organizations_organization"' in q["sql"]]
    counts = [sql for sql in counts if "COUNT(" in sql]
    assert counts and all(f"LIMIT {COUNT_CAP + 1}" in sql for sql in counts), counts
    assert response.context["page_obj"].paginator.capped is False


def _table_rows(html: str) -> list[list[str]]:
    """The body rows of the offer table, each as its cells' inner HTML."""
    body = html.split('<div id="offer-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_issue13_offer_table_rows_built_in_python_show_each_offers_cells_on_both_sides(world, client):
    """The rows come from `offer_list_rows` (not a template loop): link, other side, item count,
    total, status and date, escaped, in the reader's language (the customer's Owner reads German)."""
    from portal.templatetags.ui import moment, money

    first = of.offer(world.partner, world.customer)
    Offer.objects.filter(pk=first.pk).update(title='Cloud <b>"Plus"</b>')
    accepted = of.offer(world.partner, world.customer, status=Offer.Status.ACCEPTED)
    offers = {offer.pk: offer for offer in Offer.objects.filter(pk__in=[first.pk, accepted.pk])}
    items = {pk: offer.items.count() for pk, offer in offers.items()}
    totals = {pk: sum((item.total_price for item in offer.items.all()), Decimal("0")) for pk, offer in offers.items()}
    for user, org, other, label, language in (
        (world.partner_owner, world.partner, world.customer.name, {"accepted": "Accepted"}, "en"),
        (world.customer_owner, world.customer, world.partner.name, {"accepted": "Angenommen"}, "de"),
    ):
        client.force_login(user)
        html = client.get(reverse("offer-list", kwargs={"org": org.public_id})).content.decode()
        rows = _table_rows(html)
        assert len(rows) == 2, rows
        by_pk = {int(re.search(r"/offers/(\d+)/", row[0]).group(1)): row for row in rows}
        assert set(by_pk) == set(offers)
        with translation.override(language):
            for pk, row in by_pk.items():
                offer = offers[pk]
                assert row[0] == (
                    f'<a href="{reverse("offer-detail", kwargs={"org": org.public_id, "offer_id": pk})}">'
                    f"{escape(offer.title)}</a>"
                )
                assert row[1] == escape(other)
                assert row[2] == str(items[pk]) and row[3] == escape(money(totals[pk]))
                at = offer.created_at if org == world.partner else (offer.delivered_at or offer.created_at)
                assert row[5] == escape(moment(at))
        assert "&lt;b&gt;&quot;Plus&quot;&lt;/b&gt;" in by_pk[first.pk][0] and "<b>" not in by_pk[first.pk][0]
        assert label["accepted"] in by_pk[accepted.pk][4] and "status-" in by_pk[accepted.pk][4]
