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
