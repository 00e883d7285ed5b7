"""ORG-9: support inspects subscriptions read-only in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from billing.support import SUPPORT_PERMISSIONS
from tests import factories

from .factories import book

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/billing/subscription/"


@pytest.fixture
def support(db):
    group, _ = Group.objects.get_or_create(name="Support")
    for label in SUPPORT_PERMISSIONS:
        app_label, codename = label.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user = factories.UserFactory(is_staff=True)
    user.groups.add(group)
    return user


def test_support_lists_searches_and_reads(world, client, support):
    subscription = book(world)
    other = book(world, organization=world.direct, user=world.direct_owner)
    client.force_login(support)
    page = client.get(CHANGELIST).content.decode()
    assert "Kunde AG" in page and "Direkt GmbH" in page
    found = client.get(CHANGELIST, {"q": world.customer.public_id}).content.decode()
    assert f"/admin/billing/subscription/{subscription.pk}/change/" in found
    assert f"/admin/billing/subscription/{other.pk}/change/" not in found
    assert client.get(CHANGELIST, {"current_status": "expired"}).status_code == 200
    detail = client.get(f"/admin/billing/subscription/{subscription.pk}/change/")
    assert detail.status_code == 200 and "MOD-CRM" in detail.content.decode()


def test_support_cannot_change_add_or_delete(world, client, support):
    subscription = book(world, quantity=3)
    client.force_login(support)
    client.post(f"/admin/billing/subscription/{subscription.pk}/change/", {"quantity": 99})
    subscription.refresh_from_db()
    assert subscription.quantity == 3
    assert client.get("/admin/billing/subscription/add/").status_code == 403
    assert client.post(f"/admin/billing/subscription/{subscription.pk}/delete/", {"post": "yes"}).status_code == 403
    subscription.refresh_from_db()


def test_issue16_a_superuser_maintains_units_and_add_ons_in_the_admin(world, client):
    """The add-on picker and "licences in force" read ProductBilling; the catalog's keeper edits it."""
    from billing.models import ProductBilling
    from offers.models import Product

    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    storage, shop = (
        Product.objects.create(sku="ADM-STORE", name_en="Storage", name_de="Speicher", list_price="5.00"),
        (Product.objects.create(sku="ADM-SHOP", name_en="Shop", name_de="Shop", list_price="20.00")),
    )
    response = client.post(
        "/admin/billing/productbilling/add/",
        {"product": storage.pk, "unit": "gb_storage", "unit_size": 10, "add_on_to": [shop.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ProductBilling.objects.get(product=storage)
    assert (row.unit, row.unit_size, list(row.add_on_to.all())) == ("gb_storage", 10, [shop])
    listing = client.get("/admin/billing/productbilling/", {"q": "ADM-STORE"}).content.decode()
    assert f"/admin/billing/productbilling/{row.pk}/change/" in listing
