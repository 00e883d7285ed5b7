"""Browser pages: the customer's red badge, lists, detail with items and message, decisions, the
partner's live status (htmx polling), sending from the customer list, webhook settings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from offers.models import Offer, WebhookEndpoint

from . import factories as of

pytestmark = pytest.mark.django_db


def page(world, name, org=None, **kwargs):
    return reverse(name, kwargs={"org": (org or world.customer).public_id, **kwargs})


def test_red_badge_counts_offers_awaiting_confirmation(world, client):
    for status in ("waiting_for_confirmation", "waiting_for_confirmation", "accepted", "waiting"):
        of.offer(world.partner, world.customer, status=status)
    client.force_login(world.customer_guest)
    # The page leaves the slot; htmx fills it from the menu's badge route after load.
    assert '<span id="menu-badge-offers"></span>' in client.get(page(world, "offer-list")).content.decode()
    html = client.get(page(world, "organization-menu-badges")).content.decode()
    assert (
        '<span id="menu-badge-offers" hx-swap-oob="true"> <span class="badge badge-red" aria-hidden="true">2</span>'
        '<span class="visually-hidden">2 offers await your confirmation</span></span>'
    ) in html
    client.force_login(world.partner_owner)  # partners have no badge in their own org
    assert (
        "await your confirmation"
        not in client.get(page(world, "organization-menu-badges", org=world.partner)).content.decode()
    )


def test_customer_reads_the_offer_and_accepts(world, client):
    offer = of.offer(
        world.partner,
        world.customer,
        message="Sonderkonditionen bis Monatsende",
        tmpl=of.template(world.partner, products=world.products),
    )
    client.force_login(world.customer_member)
    html = client.get(page(world, "offer-detail", offer_id=offer.pk)).content.decode()
    assert "Sonderkonditionen bis Monatsende" in html and world.products[0].sku in html
    assert page(world, "offer-accept", offer_id=offer.pk) not in html  # a Member cannot decide
    client.force_login(world.customer_owner)
    html = client.get(page(world, "offer-detail", offer_id=offer.pk)).content.decode()
    assert page(world, "offer-accept", offer_id=offer.pk) in html
    response = client.post(page(world, "offer-accept", offer_id=offer.pk))
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    client.force_login(world.customer_admin)  # reads English
    again = client.post(page(world, "offer-decline", offer_id=offer.pk), follow=True)
    assert "This cannot be done now" in again.content.decode()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED


def test_partner_page_polls_while_delivering_and_refreshes_on_change(world, client):
    offer = of.offer(world.partner, world.customer, status="waiting")
    client.force_login(world.partner_owner)
    html = client.get(page(world, "offer-detail", org=world.partner, offer_id=offer.pk)).content.decode()
    status_url = page(world, "offer-status", org=world.partner, offer_id=offer.pk)
    assert f'hx-get="{status_url}?was=waiting"' in html and 'hx-trigger="every 2s"' in html
    listing = client.get(page(world, "offer-list", org=world.partner)).content.decode()
    assert 'hx-trigger="every 3s"' in listing
    fragment = client.get(status_url + "?was=waiting", HTTP_HX_REQUEST="true")
    assert "Sending" in fragment.content.decode() and "HX-Refresh" not in fragment
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.WAITING_FOR_CONFIRMATION)
    fragment = client.get(status_url + "?was=waiting", HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true" and "hx-trigger" not in fragment.content.decode()
    table = client.get(page(world, "offer-list", org=world.partner) + "?fragment=table", HTTP_HX_REQUEST="true")
    assert "Awaiting decision" in table.content.decode() and "every 3s" not in table.content.decode()


def test_send_from_the_customer_list(world, client):
    template = of.template(world.partner, products=world.products)
    client.force_login(world.partner_admin)
    send_url = page(world, "offer-send", org=world.partner)
    listing = client.get(send_url).content.decode()
    assert world.customer.name in listing and f"?customer={world.customer.public_id}" in listing
    form = client.get(f"{send_url}?customer={world.customer.public_id}").content.decode()
    assert "Offer to Kunde AG" in form
    response = client.post(
        f"{send_url}?customer={world.customer.public_id}",
        {"customer": world.customer.public_id, "template": template.pk, "message": "Hallo"},
    )
    offer = Offer.objects.get()
    assert response.status_code == 302 and response["Location"] == page(
        world, "offer-detail", org=world.partner, offer_id=offer.pk
    )
    assert offer.message == "Hallo" and offer.customer == world.customer
    refused = client.post(send_url, {"customer": "NOTMINE1", "template": template.pk})
    assert refused.status_code == 200 and "Choose one of your customer organizations." in refused.content.decode()


def test_partner_cancels_and_retries(world, client):
    failed = of.offer(world.partner, world.customer, status="delivery_failed")
    client.force_login(world.partner_owner)
    client.post(page(world, "offer-retry", org=world.partner, offer_id=failed.pk))
    failed.refresh_from_db()
    assert failed.status in ("waiting", "waiting_for_confirmation") and failed.delivery_attempt == 2
    client.post(page(world, "offer-cancel", org=world.partner, offer_id=failed.pk))
    failed.refresh_from_db()
    assert failed.status == "cancelled"


def test_webhook_settings_page(world, client):
    client.force_login(world.customer_admin)
    url = page(world, "offer-webhook-settings")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"url": "https://erp.kunde.example/hooks", "secret": "geheim-geheim-1234", "is_active": "on"}
    )
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get(organization=world.customer).url == "https://erp.kunde.example/hooks"
    client.post(url, {"remove": "1"})
    assert not WebhookEndpoint.objects.exists()
    client.force_login(world.customer_guest)
    assert client.get(url).status_code == 403
    client.force_login(world.partner_owner)
    assert client.get(page(world, "offer-webhook-settings", org=world.partner)).status_code == 404


def test_pages_in_german(world, client):
    offer = of.offer(world.partner, world.customer)
    client.force_login(world.customer_owner)  # language "de"
    html = client.get(page(world, "offer-detail", offer_id=offer.pk), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wartet auf Entscheidung" in html and "Angebot annehmen" in html


def test_customers_see_an_offer_only_once_it_was_delivered(world, client, api_client):
    on_its_way = of.offer(world.partner, world.customer, status="waiting")
    failed = of.offer(world.partner, world.customer, status="delivery_failed")
    client.force_login(world.customer_owner)
    api_client.force_authenticate(world.customer_owner)
    for offer in (on_its_way, failed):
        assert client.get(page(world, "offer-detail", offer_id=offer.pk)).status_code == 404
    assert api_client.get(f"/api/v1/organizations/{world.customer.public_id}/offers/").json()["count"] == 0
