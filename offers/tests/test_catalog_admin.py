"""OFR-1: support maintains the catalog and partner conditions in the admin (Support group)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from offers.models import PartnerCondition, PartnerTier, Product, partner_price
from offers.selectors import partner_discount_percent
from offers.support import SUPPORT_PERMISSIONS
from organizations.support import support_group_sync
from tests import factories

from . import factories as of

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_user(db):
    support_group_sync()
    user = factories.UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    return user


def test_partner_price_tier_or_override(world):
    tier = PartnerTier.objects.create(name="Platin", discount_percent=Decimal("30"))
    condition = PartnerCondition.objects.get(partner=world.partner)
    assert partner_discount_percent(partner=world.partner) == Decimal("20")
    condition.tier = tier
    condition.save()
    assert partner_discount_percent(partner=world.partner) == Decimal("30")
    condition.discount_override_percent = Decimal("12.5")
    condition.save()
    assert partner_discount_percent(partner=world.partner) == Decimal("12.5")
    assert partner_price(list_price=Decimal("19.99"), discount_percent=Decimal("12.5")) == Decimal("17.49")
    assert partner_discount_percent(partner=factories.PartnerFactory()) == Decimal("0")


def test_support_group_holds_the_catalog_permissions(support_user):
    for label in SUPPORT_PERMISSIONS:
        assert support_user.has_perm(label), label
    assert not support_user.has_perm("offers.delete_product")
    assert not support_user.has_perm("offers.change_offer")


def test_support_adds_a_product_and_a_partner_condition_in_the_admin(support_user, client):
    client.force_login(support_user)
    response = client.post(
        "/admin/offers/product/add/",
        {
            "kind": "course",
            "sku": "CRS-ADMIN",
            "name_en": "Admin course",
            "name_de": "Admin-Kurs",
            "term_months": "6",
            "list_price": "99.00",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:500]
    product = Product.objects.get(sku="CRS-ADMIN")
    assert (product.name_de, product.term_months, product.list_price) == ("Admin-Kurs", 6, Decimal("99.00"))
    partner = factories.PartnerFactory()
    tier = PartnerTier.objects.create(name="Bronze", discount_percent=Decimal("5"))
    response = client.post(
        "/admin/offers/partnercondition/add/", {"partner": partner.pk, "tier": tier.pk, "discount_override_percent": ""}
    )
    assert response.status_code == 302, response.content[:500]
    assert partner_discount_percent(partner=partner) == Decimal("5")
    for path in (
        "/admin/offers/product/",
        "/admin/offers/partnertier/",
        "/admin/offers/partnercondition/",
        "/admin/offers/offer/",
        "/admin/offers/offertemplate/",
        "/admin/offers/webhookendpoint/",
    ):
        assert client.get(path).status_code == 200, path


def test_admin_offer_pages_are_read_only_and_hide_secrets(support_user, client, world):
    from offers.models import WebhookEndpoint

    offer = of.offer(world.partner, world.customer)
    endpoint = WebhookEndpoint.objects.create(
        organization=world.customer, url="https://x.example", secret="top-secret-value-1"
    )
    client.force_login(support_user)
    html = client.get(f"/admin/offers/offer/{offer.pk}/change/").content.decode()
    assert offer.title in html and 'name="_save"' not in html
    assert (
        "top-secret-value-1" not in client.get(f"/admin/offers/webhookendpoint/{endpoint.pk}/change/").content.decode()
    )
