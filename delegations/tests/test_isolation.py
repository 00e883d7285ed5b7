"""Nothing of a delegation is visible to anybody outside its two sides (the generic org-route
tests in tests/test_isolation.py cover roles; these cover other tenants and the release link)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delegations.tests import factories as df
from organizations.roles import OrgRole
from tests import factories

pytestmark = pytest.mark.django_db

ACTIONS = ["accept", "decline", "cancel", "revoke"]


@pytest.fixture
def delegations(world):
    """One of each kind: pending request, pending release, active, ended."""
    pending_request = df.request(factories.project(world.customer, "A"), world.agency)
    pending_release = df.release(factories.project(world.customer, "B"), world.agency_owner.email)[0]
    active = df.active(factories.project(world.customer, "C"), world.agency)
    ended = df.request(factories.project(world.customer, "D"), world.agency)
    from delegations.services import delegation_cancel

    delegation_cancel(delegation=ended, context=df.context(world.agency_owner, world.agency), actor=world.agency_owner)
    return [pending_request, pending_release, active, ended]


@pytest.fixture
def stranger(db):
    organization = factories.OrganizationFactory()
    return organization, factories.member(organization, OrgRole.OWNER)


def test_an_unrelated_org_sees_none_of_them(world, delegations, stranger, client, api_client):
    organization, user = stranger
    client.force_login(user)
    api_client.force_authenticate(user)
    assert api_client.get(f"/api/v1/organizations/{organization.public_id}/delegations/").json()["count"] == 0
    for tab in ("incoming", "outgoing", "released", "managed", "ended"):
        page = client.get(reverse("delegation-list", kwargs={"org": organization.public_id}) + f"?tab={tab}")
        assert page.status_code == 200 and page.context["paginator"].count == 0
    for delegation in delegations:
        page_url = reverse("delegation-detail", kwargs={"org": organization.public_id, "delegation_id": delegation.pk})
        api_url = f"/api/v1/organizations/{organization.public_id}/delegations/{delegation.pk}/"
        assert client.get(page_url).status_code == 404
        assert api_client.get(api_url).status_code == 404
        for action in ACTIONS:
            assert client.post(f"{page_url}{action}/").status_code == 404
            assert api_client.post(f"{api_url}{action}/").status_code == 404
        # through either side's org it is a 404 too: no membership there
        for side in (world.customer, world.agency):
            assert (
                client.get(
                    reverse("delegation-detail", kwargs={"org": side.public_id, "delegation_id": delegation.pk})
                ).status_code
                == 404
            )
            assert (
                api_client.get(f"/api/v1/organizations/{side.public_id}/delegations/{delegation.pk}/").status_code
                == 404
            )
    assert {d.status for d in delegations} == {"pending", "active", "cancelled"}


def test_each_side_sees_exactly_its_own(world, delegations, api_client):
    api_client.force_authenticate(world.customer_owner)
    customer_ids = {
        d["id"]
        for d in api_client.get(f"/api/v1/organizations/{world.customer.public_id}/delegations/").json()["results"]
    }
    assert customer_ids == {d.pk for d in delegations}
    api_client.force_authenticate(world.agency_owner)
    agency_ids = {
        d["id"]
        for d in api_client.get(f"/api/v1/organizations/{world.agency.public_id}/delegations/").json()["results"]
    }
    # the pending release has no caretaker yet: the agency does not see it in its org
    assert agency_ids == {d.pk for d in delegations} - {delegations[1].pk}


def test_partner_staff_see_a_linked_customers_delegations_only_inside_that_customer(world, delegations, api_client):
    partner = factories.PartnerFactory()
    factories.link(partner, world.customer)
    staff = factories.member(partner, OrgRole.ADMIN)
    api_client.force_authenticate(staff)
    inside = api_client.get(f"/api/v1/organizations/{world.customer.public_id}/delegations/").json()
    assert inside["count"] == len(delegations)
    assert api_client.get(f"/api/v1/organizations/{partner.public_id}/delegations/").json()["count"] == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_release_link_for_anyone_but_the_addressee(world, delegations, stranger, client, api_client, method):
    token = delegations[1].token
    page = reverse("delegation-release-accept", kwargs={"token": token})
    api = f"/api/v1/delegation-releases/{token}/" + ("accept/" if method == "post" else "")
    # anonymous
    response = getattr(client, method)(page)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert getattr(api_client, method)(api).status_code == 401
    # any other account – a stranger, the customer's Owner, the agency's Admin
    for user in (stranger[1], world.customer_owner, world.agency_admin):
        client.force_login(user)
        api_client.force_authenticate(user)
        assert getattr(client, method)(page).status_code == 404
        response = (
            getattr(api_client, method)(api, {"organization": world.agency.public_id}, format="json")
            if method == "post"
            else api_client.get(api)
        )
        assert response.status_code == 404 and response.json()["error"]["code"] == "invalid_link"
    assert delegations[1].__class__.objects.get(pk=delegations[1].pk).status == "pending"
