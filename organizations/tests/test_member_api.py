"""ORG-5 API: `/api/v1/organizations/`, `…/{org}/members/`, `…/{org}/invitations/` with resend/revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.models import Invitation, Membership, User
from organizations.roles import OrgRole
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(members_world):
    User.objects.update(language="en")


def base(world):
    return f"/api/v1/organizations/{world.customer.public_id}"


def test_organizations_lists_what_the_caller_may_act_in(members_world, api_client):
    factories.OrganizationFactory(name="Fremd AG")
    api_client.force_authenticate(members_world.partner_owner)
    names = [o["name"] for o in api_client.get("/api/v1/organizations/").json()["results"]]
    assert names == ["Kunde AG", "Partner GmbH"]
    api_client.force_authenticate(members_world.customer_guest)
    assert [o["name"] for o in api_client.get("/api/v1/organizations/").json()["results"]] == ["Kunde AG"]
    detail = api_client.get(f"/api/v1/organizations/{members_world.customer.public_id.lower()}/")
    assert detail.status_code == 200 and detail.json()["public_id"] == members_world.customer.public_id
    assert api_client.get(f"/api/v1/organizations/{members_world.partner.public_id}/").status_code == 404


def test_members_list_search_and_role_filter(members_world, api_client):
    api_client.force_authenticate(members_world.customer_guest)
    body = api_client.get(f"{base(members_world)}/members/").json()
    assert body["count"] == 4
    assert body["results"][0]["role"] == "owner" and set(body["results"][0]["user"]) == {
        "email",
        "first_name",
        "last_name",
    }
    assert api_client.get(f"{base(members_world)}/members/?role=guest").json()["count"] == 1
    search = api_client.get(f"{base(members_world)}/members/?search={members_world.customer_admin.email}").json()
    assert [m["user"]["email"] for m in search["results"]] == [members_world.customer_admin.email]


def test_change_role_and_remove(members_world, api_client):
    member = Membership.objects.get(user=members_world.customer_member, organization=members_world.customer)
    url = f"{base(members_world)}/members/{member.pk}/"
    api_client.force_authenticate(members_world.customer_guest)
    assert api_client.patch(url, {"role": "guest"}, format="json").status_code == 403
    api_client.force_authenticate(members_world.customer_admin)
    response = api_client.patch(url, {"role": "admin"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "admin"
    response = api_client.patch(url, {"role": "owner"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "above_own_role"
    response = api_client.patch(url, {"role": "king"}, format="json")
    assert response.status_code == 400 and "role" in response.json()["error"]["details"]
    assert api_client.delete(url).status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_the_last_owner_is_a_409(members_world, api_client):
    owner = Membership.objects.get(user=members_world.customer_owner, organization=members_world.customer)
    api_client.force_authenticate(members_world.customer_owner)
    response = api_client.delete(f"{base(members_world)}/members/{owner.pk}/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "last_owner"


def test_invite_list_resend_revoke(members_world, api_client):
    api_client.force_authenticate(members_world.customer_admin)
    response = api_client.post(
        f"{base(members_world)}/invitations/",
        {"email": "API@Example.com", "role": "member", "language": "de"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "api@example.com" and body["status"] == "pending" and body["send_count"] == 1
    assert "token" not in str(body) and "prepared" not in str(body)
    invitation_id = body["id"]
    listing = api_client.get(f"{base(members_world)}/invitations/?status=pending").json()
    assert [i["id"] for i in listing["results"]] == [invitation_id]
    resend = api_client.post(f"{base(members_world)}/invitations/{invitation_id}/resend/")
    assert resend.status_code == 409 and resend.json()["error"]["code"] == "resent_recently"
    Invitation.objects.filter(pk=invitation_id).update(sent_at=timezone.now() - timedelta(minutes=5))
    resend = api_client.post(f"{base(members_world)}/invitations/{invitation_id}/resend/")
    assert resend.status_code == 200 and resend.json()["send_count"] == 2
    revoke = api_client.post(f"{base(members_world)}/invitations/{invitation_id}/revoke/")
    assert revoke.status_code == 200 and revoke.json()["status"] == "revoked"
    again = api_client.post(f"{base(members_world)}/invitations/{invitation_id}/revoke/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


def test_expired_invitations_read_as_expired(members_world, api_client):
    api_client.force_authenticate(members_world.customer_owner)
    invitation_id = api_client.post(
        f"{base(members_world)}/invitations/", {"email": "old@example.com", "role": "guest"}, format="json"
    ).json()["id"]
    Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client.get(f"{base(members_world)}/invitations/{invitation_id}/").json()["status"] == "expired"
    assert api_client.get(f"{base(members_world)}/invitations/?status=expired").json()["count"] == 1


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"email": "nope", "role": "member"}, 400, "invalid"),
        ({"email": "x@example.com", "role": "emperor"}, 400, "invalid"),
        ({"email": "x@example.com"}, 400, "invalid"),
        ({"email": "x@example.com", "role": "owner"}, 403, "above_own_role"),
        (
            {"email": "x@example.com", "role": "member", "initial_password": "Initial-Passw0rd-2026"},
            403,
            "initial_password_not_allowed",
        ),
        ({"email": "x@example.com", "role": "member", "language": "fr"}, 400, "invalid"),
    ],
)
def test_bad_invitations_are_clear_4xx(members_world, api_client, payload, status, code):
    api_client.force_authenticate(members_world.customer_admin)
    response = api_client.post(f"{base(members_world)}/invitations/", payload, format="json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Invitation.objects.exists()


def test_duplicate_and_existing_member_are_409(members_world, api_client):
    api_client.force_authenticate(members_world.customer_owner)
    url = f"{base(members_world)}/invitations/"
    assert api_client.post(url, {"email": "d@example.com", "role": "member"}, format="json").status_code == 201
    duplicate = api_client.post(url, {"email": "D@example.com", "role": "guest"}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "duplicate"
    member = api_client.post(url, {"email": members_world.customer_guest.email, "role": "guest"}, format="json")
    assert member.status_code == 409 and member.json()["error"]["code"] == "already_member"


def test_no_email_enumeration_through_the_api(members_world, api_client):
    factories.UserFactory(email="has-account@example.com")
    api_client.force_authenticate(members_world.partner_admin)
    url = f"{base(members_world)}/invitations/"
    answers = []
    for email in ("has-account@example.com", "no-account@example.com"):
        response = api_client.post(
            url, {"email": email, "role": "member", "initial_password": "Initial-Passw0rd-2026"}, format="json"
        )
        body = response.json()
        answers.append(
            (
                response.status_code,
                {k: v for k, v in body.items() if k not in ("id", "email", "created_at", "sent_at", "expires_at")},
            )
        )
    assert answers[0] == answers[1]


def test_partner_member_without_assignment_and_strangers_get_404(members_world, api_client):
    api_client.force_authenticate(members_world.partner_member)
    assert api_client.get(f"{base(members_world)}/members/").status_code == 404
    api_client.force_authenticate(factories.member(factories.OrganizationFactory(), OrgRole.OWNER))
    assert api_client.get(f"{base(members_world)}/invitations/").status_code == 404


def test_the_endpoints_are_in_the_openapi_schema(api_client, db):
    paths = api_client.get("/api/schema/?format=json").json()["paths"]
    for path in [
        "/api/v1/organizations/",
        "/api/v1/organizations/{org}/",
        "/api/v1/organizations/{org}/members/",
        "/api/v1/organizations/{org}/members/{member_id}/",
        "/api/v1/organizations/{org}/invitations/",
        "/api/v1/organizations/{org}/invitations/{invitation_id}/",
        "/api/v1/organizations/{org}/invitations/{invitation_id}/resend/",
        "/api/v1/organizations/{org}/invitations/{invitation_id}/revoke/",
    ]:
        assert path in paths, path
