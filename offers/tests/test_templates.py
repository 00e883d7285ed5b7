"""OFR-2: templates are created by name, filled through the product search (each change saved at
once, htmx), renamed and deleted – sent offers keep their snapshot."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from offers import services
from offers.models import Offer, OfferTemplate, OfferTemplateItem
from organizations.models import AuditEvent
from portal.errors import Conflict, InvalidInput

from . import factories as of

pytestmark = pytest.mark.django_db


def url(world, name, **kwargs):
    return reverse(name, kwargs={"org": world.partner.public_id, **kwargs})


def test_create_by_name_then_add_search_change_remove_with_htmx(world, client):
    client.force_login(world.partner_admin)
    response = client.post(url(world, "offer-template-list"), {"name": "  Starter   Bundle "})
    template = OfferTemplate.objects.get(partner=world.partner)
    assert template.name == "Starter Bundle"
    assert response.status_code == 302 and response["Location"] == url(
        world, "offer-template-detail", template_id=template.pk
    )
    assert client.get(response["Location"]).status_code == 200

    product = world.products[1]
    results = client.get(
        url(world, "offer-template-products", template_id=template.pk),
        {"q": product.name_en[:8]},
        HTTP_HX_REQUEST="true",
    )
    assert product.sku in results.content.decode()
    added = client.post(
        url(world, "offer-template-item-add", template_id=template.pk), {"product": product.pk}, HTTP_HX_REQUEST="true"
    )
    assert added.status_code == 200 and 'id="template-items"' in added.content.decode()
    item = template.items.get()  # saved at once
    assert (item.quantity, item.term_months, item.unit_price, item.license_mode) == (
        1,
        24,
        Decimal("33.33"),
        "absolute",
    )

    changed = client.post(
        url(world, "offer-template-item-update", template_id=template.pk, item_id=item.pk),
        {"quantity": "5", "term_months": "6", "license_mode": "relative", "unit_price": "30,50"},
        HTTP_HX_REQUEST="true",
    )
    assert changed.status_code == 200
    item.refresh_from_db()
    assert (item.quantity, item.term_months, item.license_mode, item.unit_price) == (5, 6, "relative", Decimal("30.50"))

    refused = client.post(
        url(world, "offer-template-item-update", template_id=template.pk, item_id=item.pk),
        {"quantity": "0"},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 200 and "field-error" in refused.content.decode()
    item.refresh_from_db()
    assert item.quantity == 5

    client.post(
        url(world, "offer-template-item-remove", template_id=template.pk, item_id=item.pk), HTTP_HX_REQUEST="true"
    )
    assert not template.items.exists()
    actions = set(
        AuditEvent.objects.filter(target_type="offers.offertemplate", target_id=str(template.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == {
        "offer_template.created",
        "offer_template.item_added",
        "offer_template.item_changed",
        "offer_template.item_removed",
    }


def test_rename_and_duplicate_names(world, client):
    ctx = of.context(world.partner_owner, world.partner)
    first = of.template(world.partner, name="A")
    of.template(world.partner, name="B")
    with pytest.raises(Conflict):
        services.offer_template_rename(template=first, context=ctx, name="B", actor=world.partner_owner)
    with pytest.raises(InvalidInput):
        services.offer_template_create(context=ctx, name="   ", actor=world.partner_owner)
    client.force_login(world.partner_owner)
    client.post(url(world, "offer-template-rename", template_id=first.pk), {"name": "A2"})
    first.refresh_from_db()
    assert first.name == "A2"


def test_delete_keeps_sent_offers(world, client):
    template = of.template(world.partner, products=world.products)
    offer = of.offer(world.partner, world.customer, tmpl=template)
    client.force_login(world.partner_owner)
    response = client.post(url(world, "offer-template-delete", template_id=template.pk))
    assert response.status_code == 302
    assert not OfferTemplate.objects.filter(pk=template.pk).exists()
    offer.refresh_from_db()
    assert offer.template is None and offer.title == template.name and offer.items.count() == 2


@pytest.mark.parametrize(
    "field, value",
    [
        ("quantity", "-1"),
        ("quantity", "abc"),
        ("term_months", "121"),
        ("license_mode", "forever"),
        ("unit_price", "-5"),
        ("unit_price", "NaN"),
    ],
)
def test_item_changes_refused_with_a_clear_400(world, api_client, field, value):
    template = of.template(world.partner, products=world.products[:1])
    item = template.items.get()
    api_client.force_authenticate(world.partner_owner)
    response = api_client.patch(
        f"/api/v1/organizations/{world.partner.public_id}/offer-templates/{template.pk}/items/{item.pk}/",
        {field: value},
        format="json",
    )
    assert response.status_code == 400, response.content


def test_template_api_roundtrip(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    base = f"/api/v1/organizations/{world.partner.public_id}/offer-templates/"
    created = api_client.post(base, {"name": "API bundle"}, format="json")
    assert created.status_code == 201
    template_id = created.json()["id"]
    assert api_client.post(base, {"name": "API bundle"}, format="json").status_code == 409
    item = api_client.post(f"{base}{template_id}/items/", {"product": world.products[0].pk}, format="json")
    assert item.status_code == 201 and item.json()["product"]["sku"] == world.products[0].sku
    assert api_client.post(f"{base}{template_id}/items/", {"product": 999999}, format="json").status_code == 400
    assert api_client.patch(f"{base}{template_id}/", {"name": "Renamed"}, format="json").json()["name"] == "Renamed"
    assert api_client.delete(f"{base}{template_id}/items/{item.json()['id']}/").status_code == 204
    assert api_client.delete(f"{base}{template_id}/").status_code == 204
    assert not OfferTemplate.objects.exists() and not OfferTemplateItem.objects.exists()


def test_other_partners_templates_are_invisible(world, api_client):
    from tests import factories

    other = factories.PartnerFactory()
    foreign = of.template(other)
    api_client.force_authenticate(world.partner_owner)
    base = f"/api/v1/organizations/{world.partner.public_id}/offer-templates/"
    assert api_client.get(base).json()["count"] == 0
    assert api_client.get(f"{base}{foreign.pk}/").status_code == 404
    item = foreign.items.get()
    assert api_client.delete(f"{base}{foreign.pk}/items/{item.pk}/").status_code == 404
    # nor can it be sent by this partner
    response = api_client.post(
        f"/api/v1/organizations/{world.partner.public_id}/offers/",
        {"customer": world.customer.public_id, "template": foreign.pk},
        format="json",
    )
    assert response.status_code == 400 and not Offer.objects.exists()
