"""ORG-10 audit trail pages and API; `/api/v1/organizations/` lists the orgs the caller may act in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizations.models import AuditEvent
from organizations.roles import OrgRole
from tests import factories

from ..services.profile import organization_update
from ..services.relations import connection_accept, connection_request
from .conftest import ctx

pytestmark = pytest.mark.django_db


def test_customers_read_what_partner_staff_did_in_their_org(world, client):
    organization_update(context=ctx(world.partner_admin, world.customer), actor=world.partner_admin, city="Bonn")
    organization_update(context=ctx(world.customer_owner, world.customer), actor=world.customer_owner, street="Weg 2")
    client.force_login(world.customer_owner)
    url = reverse("audit-trail", kwargs={"org": world.customer.public_id})
    events = list(client.get(url, {"origin": "external"}).context["events"])
    assert [(e.actor_email, e.acting_organization) for e in events] == [(world.partner_admin.email, world.partner)]
    page = client.get(url).content.decode()
    assert "Organization details changed" in page and world.partner_admin.email in page and "Partner GmbH" in page
    own = list(client.get(url, {"origin": "own"}).context["events"])
    assert world.customer_owner.email in [e.actor_email for e in own]
    assert world.partner_admin.email not in [e.actor_email for e in own]


def test_partner_admins_read_their_own_and_their_customers_trails(world, client):
    organization_update(
        context=ctx(world.customer_owner, world.customer), actor=world.customer_owner, city="Ulm", postcode="89073"
    )
    client.force_login(world.partner_admin)
    customer_trail = client.get(reverse("audit-trail", kwargs={"org": world.customer.public_id})).context["events"]
    assert any(e.action == "organization.changed" for e in customer_trail)
    own_trail = client.get(reverse("audit-trail", kwargs={"org": world.partner.public_id})).context["events"]
    assert all(e.organization_id == world.partner.pk for e in own_trail)
    assert client.get(reverse("audit-trail", kwargs={"org": world.direct.public_id})).status_code == 404


@pytest.mark.parametrize("role", ["customer_member", "customer_guest", "partner_member"])
def test_members_and_guests_do_not_read_the_trail(world, client, role):
    organization = world.partner if role.startswith("partner") else world.customer
    client.force_login(getattr(world, role))
    assert client.get(reverse("audit-trail", kwargs={"org": organization.public_id})).status_code == 403


def test_audit_search_and_api(world, api_client):
    organization_update(context=ctx(world.direct_owner, world.direct), actor=world.direct_owner, city="Köln")
    api_client.force_login(world.direct_owner)
    url = reverse("audit-event-api-list", kwargs={"org": world.direct.public_id})
    rows = api_client.get(url).json()["results"]
    assert rows[0]["action"] == "organization.changed"
    assert rows[0]["details"]["city"]["after"] == "Köln" and "after" not in rows[0] and "before" not in rows[0]
    assert {row["action"] for row in api_client.get(url, {"action": "organization.created"}).json()["results"]} == {
        "organization.created"
    }
    assert api_client.get(url, {"origin": "external"}).json()["count"] == 0
    api_client.force_login(factories.member(world.direct, OrgRole.MEMBER))
    assert api_client.get(url).status_code == 403


def test_every_state_change_of_this_app_is_recorded_with_before_and_after(world):
    relation = connection_request(
        context=ctx(world.partner_owner, world.partner), actor=world.partner_owner, identifier=world.direct.public_id
    )
    connection_accept(relation=relation, context=ctx(world.direct_owner, world.direct), actor=world.direct_owner)
    event = AuditEvent.objects.get(action="customer_relation.accepted", organization=world.direct)
    assert event.before["status"] == "requested" and event.after["status"] == "active"
    assert event.actor_email == world.direct_owner.email and event.created_at


# --- /api/v1/organizations/ --------------------------------------------------------------------


def _names(api_client, user, **params):
    api_client.force_login(user)
    response = api_client.get(reverse("organization-api-list"), params)
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


def test_the_list_is_the_orgs_the_caller_may_act_in(world, api_client):
    assert _names(api_client, world.partner_owner) == ["Kunde AG", "Partner GmbH"]
    assert _names(api_client, world.partner_member) == ["Partner GmbH"]
    assert _names(api_client, world.customer_guest) == ["Kunde AG"]
    assert _names(api_client, world.direct_owner) == ["Direkt GmbH"]
    assert _names(api_client, world.partner_owner, kind="partner") == ["Partner GmbH"]
    assert _names(api_client, world.partner_owner, search="kunde") == ["Kunde AG"]


def test_every_rows_links_are_its_orgs_urls_in_list_and_detail(world, api_client):
    """The list reverses each route once and puts each org's identifier in (issue 13): the same
    URLs as `reverse` per org, "customers" for partners only."""
    api_client.force_login(world.partner_owner)
    rows = api_client.get(reverse("organization-api-list")).json()["results"]
    assert {row["name"] for row in rows} == {"Kunde AG", "Partner GmbH"}
    for row in rows:
        org = row["public_id"]
        expected = {
            "detail": reverse("organization-api-detail", kwargs={"org": org}),
            "customers": reverse("customer-api-list", kwargs={"org": org}) if row["kind"] == "partner" else None,
            "connection_requests": reverse("connection-request-api-list", kwargs={"org": org}),
            "audit_events": reverse("audit-event-api-list", kwargs={"org": org}),
        }
        assert row["links"] == expected
        assert api_client.get(expected["detail"]).json()["links"] == expected


def test_customers_and_connection_requests_are_reachable_from_an_org(world, api_client):
    api_client.force_login(world.partner_owner)
    row = next(
        r for r in api_client.get(reverse("organization-api-list")).json()["results"] if r["name"] == "Partner GmbH"
    )
    customers = api_client.get(row["links"]["customers"]).json()
    assert [c["public_id"] for c in customers["results"]] == [world.customer.public_id]
    assert api_client.get(row["links"]["connection_requests"]).status_code == 200
    detail = api_client.get(row["links"]["detail"]).json()
    assert detail["role"] == "owner" and detail["reseller"] is None
    customer = api_client.get(
        reverse("customer-api-detail", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id})
    )
    assert customer.json()["name"] == "Kunde AG"
    assert (
        api_client.get(
            reverse("customer-api-detail", kwargs={"org": world.partner.public_id, "customer": world.direct.public_id})
        ).status_code
        == 404
    )


def test_anonymous_gets_401(api_client):
    assert api_client.get(reverse("organization-api-list")).status_code == 401


def test_the_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in [
        "/api/v1/organizations/",
        "/api/v1/organizations/{org}/",
        "/api/v1/organizations/{org}/logo/",
        "/api/v1/organizations/{org}/support-contact/",
        "/api/v1/organizations/{org}/end-reseller-relation/",
        "/api/v1/organizations/{org}/customers/",
        "/api/v1/organizations/{org}/customers/{customer}/",
        "/api/v1/organizations/{org}/customers/{customer}/archive/",
        "/api/v1/organizations/{org}/customers/{customer}/end-relation/",
        "/api/v1/organizations/{org}/customers/{customer}/assign-staff/",
        "/api/v1/organizations/{org}/connection-requests/",
        "/api/v1/organizations/{org}/connection-requests/{relation_id}/accept/",
        "/api/v1/organizations/{org}/audit-events/",
    ]:
        assert path in schema["paths"], path


def test_partner_reads_its_customers_trails_together_with_its_own(world, client, api_client):
    organization_update(
        context=ctx(world.customer_owner, world.customer), actor=world.customer_owner, city="Ulm", postcode="89073"
    )
    organization_update(context=ctx(world.direct_owner, world.direct), actor=world.direct_owner, city="Köln")
    client.force_login(world.partner_admin)
    url = reverse("audit-trail", kwargs={"org": world.partner.public_id})
    own = {e.organization_id for e in client.get(url).context["events"]}
    assert own == {world.partner.pk}
    both = client.get(url, {"customers": "1"})
    assert {e.organization_id for e in both.context["events"]} == {world.partner.pk, world.customer.pk}
    assert "Kunde AG" in both.content.decode()
    external = client.get(url, {"customers": "1", "origin": "external"}).context["events"]
    assert all(e.acting_organization_id and e.acting_organization_id != e.organization_id for e in external)
    # a partner Member reads no trail; assigned customers do not change that
    client.force_login(world.partner_member)
    assert client.get(url, {"customers": "1"}).status_code == 403
    api_client.force_login(world.partner_owner)
    api = reverse("audit-event-api-list", kwargs={"org": world.partner.public_id})
    rows = api_client.get(api, {"customers": "true", "action": "organization.changed"}).json()["results"]
    assert [row["organization"]["name"] for row in rows] == ["Kunde AG"]
    assert api_client.get(api, {"action": "organization.changed"}).json()["count"] == 0


def test_customers_cannot_widen_their_trail(world, client):
    client.force_login(world.customer_owner)
    url = reverse("audit-trail", kwargs={"org": world.customer.public_id})
    assert {e.organization_id for e in client.get(url, {"customers": "1"}).context["events"]} == {world.customer.pk}
