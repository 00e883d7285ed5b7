"""ORG-4: one login reaches the partner org and every linked customer; the switcher searches as
you type; the org in the URL (not the session) decides; the notice while acting as partner staff;
the partner's customer list – paginated, searchable, constant queries with 10,000 customers."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.models import CustomerRelation, Organization
from organizations.roles import OrgRole
from organizations.selectors import switcher_organizations
from tests import factories

pytestmark = pytest.mark.django_db


def test_switcher_lists_own_orgs_first_then_customers(world, client):
    client.force_login(world.partner_owner)
    response = client.get(reverse("organization-switcher"))
    names = [o.name for o in response.context["organizations"]]
    assert names == ["Partner GmbH", "Kunde AG"]
    html = response.content.decode()
    assert f'href="/o/{world.partner.public_id}/"' in html and "Customer (as partner staff)" in html


def test_switcher_searches_by_name_and_identifier(world, client):
    client.force_login(world.partner_owner)
    assert [o.name for o in client.get(reverse("organization-switcher"), {"q": "kun"}).context["organizations"]] == [
        "Kunde AG"
    ]
    found = client.get(reverse("organization-switcher"), {"q": world.customer.public_id.lower()}).context[
        "organizations"
    ]
    assert [o.name for o in found] == ["Kunde AG"]
    short = world.customer.public_id[4:]  # without "ORG-"
    assert [o.name for o in client.get(reverse("organization-switcher"), {"q": short}).context["organizations"]] == [
        "Kunde AG"
    ]
    assert "No organization found." in client.get(reverse("organization-switcher"), {"q": "Direkt"}).content.decode()


def test_switcher_for_customers_and_members_shows_only_reachable_orgs(world, client):
    client.force_login(world.customer_guest)
    assert [o.name for o in client.get(reverse("organization-switcher")).context["organizations"]] == ["Kunde AG"]
    client.force_login(world.partner_member)  # not assigned yet (ORG-11)
    assert [o.name for o in client.get(reverse("organization-switcher")).context["organizations"]] == ["Partner GmbH"]
    factories.assign(world.partner_member, world.partner, world.customer)
    assert [o.name for o in client.get(reverse("organization-switcher")).context["organizations"]] == [
        "Partner GmbH",
        "Kunde AG",
    ]


def test_switcher_needs_a_login(client):
    assert client.get(reverse("organization-switcher")).status_code == 401


def test_notice_while_partner_staff_act_inside_a_customer(world, client):
    client.force_login(world.partner_admin)
    page = client.get(reverse("organization-dashboard", kwargs={"org": world.customer.public_id})).content.decode()
    assert "You are acting as Partner GmbH staff inside the customer organization Kunde AG." in page
    page = client.get(reverse("organization-dashboard", kwargs={"org": world.partner.public_id})).content.decode()
    assert "You are acting as" not in page
    client.force_login(world.customer_owner)
    page = client.get(reverse("organization-dashboard", kwargs={"org": world.customer.public_id})).content.decode()
    assert "You are acting as" not in page


def test_two_tabs_two_orgs_the_url_decides(world, client):
    """No session state: alternating requests act in the org of their own URL."""
    client.force_login(world.partner_owner)
    for org in (world.customer, world.partner, world.customer):
        response = client.get(reverse("organization-dashboard", kwargs={"org": org.public_id}))
        assert response.context["org_context"].organization == org
    api = reverse("organization-api-detail", kwargs={"org": world.customer.public_id})
    assert client.get(api).json()["acting_as_partner"] is True


def test_customer_list_is_paginated_and_searchable(world, client):
    factories.linked_customers(world.partner, 60)
    client.force_login(world.partner_owner)
    url = reverse("customer-list", kwargs={"org": world.partner.public_id})
    response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["customers"]) == 25 and response.context["paginator"].count == 61
    assert list(client.get(url, {"page": 3}).context["customers"])[-1]["name"] == "Kunde AG"
    found = client.get(url, {"q": "kunde 0004"}).context["customers"]
    assert [c["name"] for c in found] == [f"Bulk Kunde 0004{n}" for n in range(10)]
    assert [c["name"] for c in client.get(url, {"q": world.customer.public_id}).context["customers"]] == ["Kunde AG"]


def test_customer_list_of_a_partner_member_has_only_assigned_customers(world, client):
    factories.linked_customers(world.partner, 5)
    client.force_login(world.partner_member)
    url = reverse("customer-list", kwargs={"org": world.partner.public_id})
    assert list(client.get(url).context["customers"]) == []
    factories.assign(world.partner_member, world.partner, world.customer)
    assert [c["name"] for c in client.get(url).context["customers"]] == ["Kunde AG"]
    client.force_login(world.partner_guest)
    assert client.get(url).status_code == 403
    client.force_login(world.customer_owner)
    assert client.get(reverse("customer-list", kwargs={"org": world.customer.public_id})).status_code == 404


def test_archived_customers_have_their_own_list(world, client):
    Organization.objects.filter(pk=world.customer.pk).update(status="archived")
    client.force_login(world.partner_owner)
    url = reverse("customer-list", kwargs={"org": world.partner.public_id})
    assert list(client.get(url).context["customers"]) == []
    assert [c["name"] for c in client.get(url, {"status": "archived"}).context["customers"]] == ["Kunde AG"]


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def test_customer_list_switcher_and_api_run_the_same_queries_with_10_and_10000_customers(world, client, api_client):
    """The SPEC's partner with 10,000 customer orgs (built by `seed_scale`'s bulk inserts)."""
    client.force_login(world.partner_owner)
    api_client.force_login(world.partner_owner)
    pages = [
        (client, reverse("customer-list", kwargs={"org": world.partner.public_id}), {}),
        (client, reverse("customer-list", kwargs={"org": world.partner.public_id}), {"q": "kunde", "page": 2}),
        (client, reverse("organization-switcher"), {}),
        (client, reverse("organization-switcher"), {"q": "Bulk"}),
        (client, reverse("organization-dashboard", kwargs={"org": world.customer.public_id}), {}),
        (api_client, reverse("organization-api-list"), {}),
        (api_client, reverse("organization-api-list"), {"search": "kunde"}),
        (api_client, reverse("customer-api-list", kwargs={"org": world.partner.public_id}), {"search": "Bulk"}),
    ]
    factories.linked_customers(world.partner, 60)
    small = [_queries(c, url, params) for c, url, params in pages]
    factories.linked_customers(world.partner, 9_940)
    assert CustomerRelation.objects.filter(partner=world.partner, status="active").count() == 10_001
    large = [_queries(c, url, params) for c, url, params in pages]
    assert large == small
    # and the answers are still bounded pages
    assert len(client.get(reverse("organization-switcher"), {"q": "Bulk"}).context["organizations"]) == 20
    # 10,002 orgs: the API counts up to 1,000 (issue 13), then says "more" instead of a number
    body = api_client.get(reverse("organization-api-list")).json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (None, True, 25)
    assert body["next"] is not None


def test_with_seed_scale_data(client, settings):
    """`manage.py seed_scale` (small numbers): its partner's Owner lists its customers."""
    settings.DEBUG = True
    call_command("seed_scale", customers=300, projects=10, users=3, grants=10, stdout=open("/dev/null", "w"))
    partner = Organization.objects.get(name="Scale Partner GmbH")
    owner = partner.memberships.get(role=OrgRole.OWNER).user
    client.force_login(owner)
    url = reverse("customer-list", kwargs={"org": partner.public_id})
    response = client.get(url, {"q": "Scale Customer 00029"})
    assert [c["name"] for c in response.context["customers"]] == [
        "Scale Customer 000290",
        "Scale Customer 000291",
        "Scale Customer 000292",
        "Scale Customer 000293",
        "Scale Customer 000294",
        "Scale Customer 000295",
        "Scale Customer 000296",
        "Scale Customer 000297",
        "Scale Customer 000298",
        "Scale Customer 000299",
    ]
    switcher, more = switcher_organizations(user=owner, search="Scale")
    assert len(switcher) == 20 and more and switcher[0] == partner
