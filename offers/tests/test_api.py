"""The offers API: sending, both sides' representations (purchase prices never reach customers),
isolation between customers, and query counts that do not grow with the number of offers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from offers.models import Offer, OfferItem
from organizations.roles import OrgRole
from tests import factories

from . import factories as of

pytestmark = pytest.mark.django_db


def offers_url(org, *parts):
    return f"/api/v1/organizations/{org.public_id}/offers/" + "".join(f"{p}/" for p in parts)


def test_send_snapshots_items_and_partner_conditions(world, api_client):
    template = of.template(world.partner, products=world.products)
    api_client.force_authenticate(world.partner_admin)
    response = api_client.post(
        offers_url(world.partner),
        {"customer": world.customer.public_id.lower(), "template": template.pk, "message": "Bitte prüfen"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] in ("waiting", "waiting_for_confirmation") and body["customer"]["name"] == "Kunde AG"
    first = body["items"][0]
    # 20 % tier discount: 10.00 → 8.00 purchase; the selling price defaults to the list price
    assert (first["list_price"], first["purchase_price"], first["unit_price"]) == ("10.00", "8.00", "10.00")
    assert first["total_price"] == "120.00"  # 10.00 × 1 license × 12 months
    assert body["total"] == "919.92" and body["purchase_total"] == "735.84"  # + 33.33 × 24 (purchase 26.66 × 24)

    # later template edits do not change the sent offer
    item = template.items.first()
    api_client.patch(
        f"/api/v1/organizations/{world.partner.public_id}/offer-templates/{template.pk}/items/{item.pk}/",
        {"quantity": 99, "unit_price": "1.00"},
        format="json",
    )
    offer_item = OfferItem.objects.get(offer_id=body["id"], product=item.product)
    assert (offer_item.quantity, offer_item.unit_price) == (1, Decimal("10.00"))


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"customer": "NOPE1234", "template": 0}, "template"),
        ({"template": "x"}, "customer"),
        ({"customer": "NOPE1234"}, "template"),
    ],
)
def test_bad_send_input_is_a_clear_400(world, api_client, payload, field):
    api_client.force_authenticate(world.partner_owner)
    response = api_client.post(offers_url(world.partner), payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"


def test_cannot_send_to_a_customer_of_another_partner_or_an_empty_template(world, api_client):
    other_customer = factories.OrganizationFactory()
    factories.link(factories.PartnerFactory(), other_customer)
    api_client.force_authenticate(world.partner_owner)
    template = of.template(world.partner, products=world.products)
    response = api_client.post(
        offers_url(world.partner), {"customer": other_customer.public_id, "template": template.pk}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["details"] == {
        "customer": ["Choose one of your customer organizations."]
    }
    empty = of.template(world.partner, products=[])
    response = api_client.post(
        offers_url(world.partner), {"customer": world.customer.public_id, "template": empty.pk}, format="json"
    )
    assert response.status_code == 400 and "no products" in response.json()["error"]["message"]
    assert not Offer.objects.exists()


def _walk(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def test_customers_never_see_partner_conditions(world, api_client, client):
    offer = of.offer(world.partner, world.customer, tmpl=of.template(world.partner, products=world.products))
    purchase_prices = {str(item.purchase_price) for item in offer.items.all()}
    assert purchase_prices == {"8.00", "26.66"}
    for user in (world.customer_owner, world.customer_guest, world.partner_admin):  # partner staff inside too
        api_client.force_authenticate(user)
        for url in (offers_url(world.customer), offers_url(world.customer, offer.pk)):
            response = api_client.get(url)
            assert response.status_code == 200
            keys = set(_walk(response.json()))
            assert not keys & {"purchase_price", "purchase_total", "list_price"}, keys
            text = json.dumps(response.json())
            assert not any(price in text for price in purchase_prices)
        client.force_login(user)
        for name in ("offer-list", "offer-detail"):
            kwargs = {"org": world.customer.public_id} | ({"offer_id": offer.pk} if name == "offer-detail" else {})
            page = client.get(reverse(name, kwargs=kwargs)).content.decode()
            assert not any(price.replace(".", ",") in page or price in page for price in purchase_prices)
            assert "Partner price" not in page and "purchase" not in page.lower()
    # the partner sees them
    api_client.force_authenticate(world.partner_owner)
    detail = api_client.get(offers_url(world.partner, offer.pk)).json()
    assert {item["purchase_price"] for item in detail["items"]} == purchase_prices


def test_customers_see_only_their_own_offers(world, api_client):
    mine = of.offer(world.partner, world.customer)
    neighbour = factories.OrganizationFactory()
    factories.link(world.partner, neighbour)
    theirs = of.offer(world.partner, neighbour)
    api_client.force_authenticate(world.customer_owner)
    listed = api_client.get(offers_url(world.customer)).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert api_client.get(offers_url(world.customer, theirs.pk)).status_code == 404
    assert api_client.post(offers_url(world.customer, theirs.pk, "accept")).status_code == 404
    assert api_client.get(f"/api/v1/organizations/{world.customer.public_id}/offer-templates/").status_code == 404
    # the partner's list holds both; the neighbour's owner sees only its own
    api_client.force_authenticate(world.partner_member)
    assert {row["id"] for row in api_client.get(offers_url(world.partner)).json()["results"]} == {mine.pk, theirs.pk}


def _make_offers(world, count):
    template = of.template(world.partner, products=world.products)
    for _ in range(count):
        of.offer(world.partner, world.customer, tmpl=template)


@pytest.mark.parametrize("side", ["partner", "customer"])
def test_offer_list_query_count_does_not_grow(world, api_client, client, django_assert_max_num_queries, side):
    org = getattr(world, side)
    user = world.partner_owner if side == "partner" else world.customer_owner
    api_client.force_authenticate(user)
    client.force_login(user)
    _make_offers(world, 3)

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as api:
            assert api_client.get(offers_url(org)).status_code == 200
        with CaptureQueriesContext(connection) as page:
            assert client.get(reverse("offer-list", kwargs={"org": org.public_id})).status_code == 200
        return len(api), len(page)

    small = count_queries()
    _make_offers(world, 27)  # 10x
    api, page = count_queries()
    # the API counts (up to the cap) only once the first page is full (CappedCountPagination)
    assert (api, page) == (small[0] + 1, small[1])
    _make_offers(world, 30)
    assert count_queries() == (api, page)
    with django_assert_max_num_queries(15):
        api_client.get(offers_url(org))


def test_customer_decides_through_the_api(world, api_client):
    offer = of.offer(world.partner, world.customer)
    api_client.force_authenticate(world.customer_admin)
    response = api_client.post(offers_url(world.customer, offer.pk, "decline"), {"reason": "x" * 2001}, format="json")
    assert response.status_code == 400
    response = api_client.post(offers_url(world.customer, offer.pk, "decline"), {"reason": "Später."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert response.json()["decline_reason"] == "Später."
    again = api_client.post(offers_url(world.customer, offer.pk, "accept"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


def test_schema_lists_the_offer_endpoints(api_client, db):
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for suffix in (
        "offers/",
        "offers/{offer_id}/accept/",
        "offers/{offer_id}/decline/",
        "offers/{offer_id}/cancel/",
        "offers/{offer_id}/retry/",
        "offer-templates/",
        "offer-templates/{template_id}/items/",
        "offer-bulk-sends/",
        "offer-webhook/",
    ):
        assert f"/api/v1/organizations/{{org}}/{suffix}" in paths, suffix


def test_partner_member_reads_but_cannot_send(world, api_client):
    template = of.template(world.partner, products=world.products)
    api_client.force_authenticate(world.partner_member)
    assert api_client.get(offers_url(world.partner)).status_code == 200
    response = api_client.post(
        offers_url(world.partner), {"customer": world.customer.public_id, "template": template.pk}, format="json"
    )
    assert response.status_code == 403
    assert factories.member(world.partner, OrgRole.GUEST)


def test_issue12_page_and_api_list_are_one_selector(world, api_client, client):
    """Issue 12: the API had its own search (DRF's SearchFilter splits words, the page did not)
    and its own status check; both now read `offers.selectors.offer_list`."""
    offer = of.offer(world.partner, world.customer)
    api_client.force_authenticate(world.partner_admin)
    client.force_login(world.partner_admin)
    page_url = reverse("offer-list", kwargs={"org": world.partner.public_id})
    for term in (offer.title, f"{world.customer.name} {offer.title}", world.customer.name[:4]):
        api = [row["id"] for row in api_client.get(offers_url(world.partner), {"search": term}).json()["results"]]
        page = [o.pk for o in client.get(page_url, {"q": term}).context["object_list"]]
        assert api == page, term
    assert api_client.get(offers_url(world.partner), {"status": "nonsense"}).status_code == 400
    assert client.get(page_url, {"status": "nonsense"}).status_code == 400


def test_offer_search_finds_the_customer_as_every_org_search_does(world, api_client, client):
    """The offer list's search (page and API) finds the customer by the one org search rule
    (`organizations.selectors.organization_search_q`): its name in any case, or its identifier
    with or without "ORG-"; an offer to another customer is not found by this one's name."""
    other = factories.OrganizationFactory(name="Straße Zwei GmbH")
    factories.link(world.partner, other)
    world.customer.name = "Großkunde Müller GmbH"
    world.customer.save(update_fields=["name"])
    mine = of.offer(world.partner, world.customer)
    theirs = of.offer(world.partner, other)
    api_client.force_authenticate(world.partner_admin)
    client.force_login(world.partner_admin)
    page_url = reverse("offer-list", kwargs={"org": world.partner.public_id})
    identifier = world.customer.public_id
    for term in ("großkunde", "MÜLLER", identifier, identifier.lower(), identifier.removeprefix("ORG-")):
        api = [row["id"] for row in api_client.get(offers_url(world.partner), {"search": term}).json()["results"]]
        page = [o.pk for o in client.get(page_url, {"q": term}).context["object_list"]]
        assert api == page == [mine.pk], term
    found = api_client.get(offers_url(world.partner), {"search": "straße zwei"}).json()["results"]
    assert [row["id"] for row in found] == [theirs.pk]
    assert api_client.get(offers_url(world.partner), {"search": "%"}).json()["results"] == []
