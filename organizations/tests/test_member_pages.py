"""ORG-5 pages: members list (search, pages, role change, removal), invite form, invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations.models import Invitation, Membership, User
from organizations.roles import OrgRole
from tests import factories

from ..services.invitations import invitation_create
from .conftest import link_token, send_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(members_world):
    """Pages in English here (German pages: test_member_i18n.py)."""
    User.objects.update(language="en")


def members_url(org, **query):
    url = reverse("member-list", kwargs={"org": org.public_id})
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


def test_every_member_sees_the_list_managers_see_the_controls(members_world, client):
    client.force_login(members_world.customer_guest)
    page = client.get(members_url(members_world.customer))
    assert page.status_code == 200
    html = page.content.decode()
    assert members_world.customer_owner.email in html and members_world.customer_guest.email in html
    assert "Change role" not in html and "Invite" not in html
    client.force_login(members_world.customer_admin)
    html = client.get(members_url(members_world.customer)).content.decode()
    assert "Change role" in html and "Invite" in html
    # an Admin gets no controls for the Owner and cannot offer Owner
    page = client.get(members_url(members_world.customer))
    rows = {m.user.email: m for m in page.context["object_list"]}
    assert (
        not rows[members_world.customer_owner.email].manageable and rows[members_world.customer_guest.email].manageable
    )
    assert [value for value, _label in page.context["role_choices"]] == ["admin", "member", "guest"]


def test_search_and_pages(members_world, client):
    for number in range(30):
        factories.member(
            members_world.customer, OrgRole.GUEST, email=f"bulk{number:02d}@bulk.example", first_name="Bulk"
        )
    client.force_login(members_world.customer_owner)
    first = client.get(members_url(members_world.customer))
    assert first.context["is_paginated"] and len(first.context["object_list"]) == 25
    assert first.context["object_list"][0].role == OrgRole.OWNER  # strongest role first
    found = client.get(members_url(members_world.customer, q="BULK0"))
    assert sorted(m.user.email for m in found.context["object_list"]) == [f"bulk0{n}@bulk.example" for n in range(10)]
    second = client.get(members_url(members_world.customer, q="bulk", page=2))
    assert len(second.context["object_list"]) == 5
    assert "q=bulk" in second.content.decode()  # the pager keeps the search
    nothing = client.get(members_url(members_world.customer, q="nobody-here"))
    assert "No member matches your search." in nothing.content.decode()


def test_changing_a_role_on_the_page(members_world, client):
    client.force_login(members_world.customer_admin)
    row = Membership.objects.get(user=members_world.customer_member, organization=members_world.customer)
    url = reverse("member-role", kwargs={"org": members_world.customer.public_id, "member_id": row.pk})
    response = client.post(url, {"role": "guest"}, follow=True)
    assert response.redirect_chain[-1][0] == members_url(members_world.customer)
    row.refresh_from_db()
    assert row.role == OrgRole.GUEST
    # above own rank: a message, nothing changed
    response = client.post(url, {"role": "owner"}, follow=True)
    assert (
        "You cannot grant a role above your own." in response.content.decode()
        or "Only Owners" in response.content.decode()
    )
    row.refresh_from_db()
    assert row.role == OrgRole.GUEST
    response = client.post(url, {"role": "nonsense"}, follow=True)
    assert "Choose a valid role." in response.content.decode()


def test_the_last_owner_message_on_the_page(members_world, client):
    client.force_login(members_world.customer_owner)
    row = Membership.objects.get(user=members_world.customer_owner, organization=members_world.customer)
    url = reverse("member-role", kwargs={"org": members_world.customer.public_id, "member_id": row.pk})
    response = client.post(url, {"role": "admin"}, follow=True)
    assert "at least one Owner" in response.content.decode()


def test_removing_after_confirmation(members_world, client):
    client.force_login(members_world.customer_owner)
    row = Membership.objects.get(user=members_world.customer_member, organization=members_world.customer)
    url = reverse("member-remove", kwargs={"org": members_world.customer.public_id, "member_id": row.pk})
    confirm = client.get(url)
    assert confirm.status_code == 200 and members_world.customer_member.email in confirm.content.decode()
    assert Membership.objects.filter(pk=row.pk).exists()  # GET changes nothing
    assert client.post(url).status_code == 302
    assert not Membership.objects.filter(pk=row.pk).exists()
    assert User.objects.filter(pk=members_world.customer_member.pk).exists()  # the account stays


def test_removing_oneself_leads_home(members_world, client):
    client.force_login(members_world.customer_admin)
    row = Membership.objects.get(user=members_world.customer_admin, organization=members_world.customer)
    response = client.post(
        reverse("member-remove", kwargs={"org": members_world.customer.public_id, "member_id": row.pk})
    )
    assert response["Location"] == reverse("home")


def test_a_member_of_another_org_is_404(members_world, client):
    other = factories.OrganizationFactory()
    foreign = Membership.objects.get(user=factories.member(other, OrgRole.GUEST), organization=other)
    client.force_login(members_world.customer_owner)
    url = reverse("member-remove", kwargs={"org": members_world.customer.public_id, "member_id": foreign.pk})
    assert client.post(url).status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


# --- invite form ------------------------------------------------------------------------------------


def invite_url(org):
    return reverse("invitation-create", kwargs={"org": org.public_id})


def test_the_invite_form_offers_only_grantable_roles_and_the_initial_password_to_partners(members_world, client):
    client.force_login(members_world.customer_admin)
    form = client.get(invite_url(members_world.customer)).context["form"]
    assert [value for value, _ in form.fields["role"].choices] == ["admin", "member", "guest"]
    assert "initial_password" not in form.fields
    client.force_login(members_world.partner_admin)  # partner staff in the linked customer
    form = client.get(invite_url(members_world.customer)).context["form"]
    assert "initial_password" in form.fields
    client.force_login(members_world.customer_owner)
    form = client.get(invite_url(members_world.customer)).context["form"]
    assert [value for value, _ in form.fields["role"].choices] == ["owner", "admin", "member", "guest"]


def test_inviting_on_the_page(members_world, client):
    client.force_login(members_world.customer_owner)
    response = client.post(
        invite_url(members_world.customer),
        {"email": "Neu@Example.com", "role": "member", "first_name": "", "last_name": "", "language": "en"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("invitation-list", kwargs={"org": members_world.customer.public_id})
    assert Invitation.objects.get(email="neu@example.com").status == Invitation.Status.PENDING


@pytest.mark.parametrize(
    "data, message",
    [
        ({"email": "broken", "role": "member"}, "Enter a valid email address."),
        ({"email": "x@example.com", "role": "owner"}, "Select a valid choice."),  # not offered to Admins
    ],
)
def test_bad_input_on_the_invite_form(members_world, client, data, message):
    client.force_login(members_world.customer_admin)
    response = client.post(invite_url(members_world.customer), {"language": "en", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Invitation.objects.exists()


def test_duplicate_and_member_on_the_invite_form(members_world, client):
    client.force_login(members_world.customer_owner)
    data = {"email": "dup@example.com", "role": "member", "language": "en"}
    client.post(invite_url(members_world.customer), data)
    response = client.post(invite_url(members_world.customer), data)
    assert "There already is a pending invitation for this address." in response.content.decode()
    response = client.post(invite_url(members_world.customer), {**data, "email": members_world.customer_guest.email})
    assert "already is a member" in response.content.decode()


# --- invitations list, resend, revoke -------------------------------------------------------------


def invitations_url(org, **query):
    url = reverse("invitation-list", kwargs={"org": org.public_id})
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


def test_invitations_list_with_resend_and_revoke(members_world, client):
    pending = invitation_create(
        organization=members_world.customer, email="p@example.com", role="member", actor=members_world.customer_owner
    )
    expired = invitation_create(
        organization=members_world.customer, email="e@example.com", role="member", actor=members_world.customer_owner
    )
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(days=1), sent_at=timezone.now() - timedelta(days=8)
    )
    client.force_login(members_world.customer_admin)
    page = client.get(invitations_url(members_world.customer))
    assert [i.email for i in page.context["object_list"]] == ["p@example.com"]
    expired_page = client.get(invitations_url(members_world.customer, status="expired"))
    assert [i.email for i in expired_page.context["object_list"]] == ["e@example.com"]
    assert "/resend/" in expired_page.content.decode() and "/revoke/" not in expired_page.content.decode()
    org = members_world.customer.public_id
    response = client.post(reverse("invitation-resend", kwargs={"org": org, "invitation_id": expired.pk}), follow=True)
    assert "was sent again" in response.content.decode()
    expired.refresh_from_db()
    assert expired.status == Invitation.Status.PENDING
    response = client.post(reverse("invitation-revoke", kwargs={"org": org, "invitation_id": pending.pk}), follow=True)
    assert "was withdrawn" in response.content.decode()
    response = client.post(reverse("invitation-revoke", kwargs={"org": org, "invitation_id": pending.pk}), follow=True)
    assert "cannot be done now" in response.content.decode()  # a clear message, not a 500


def test_members_and_guests_do_not_reach_invitations(members_world, client):
    for user in (members_world.customer_member, members_world.customer_guest):
        client.force_login(user)
        assert client.get(invitations_url(members_world.customer)).status_code == 403
        assert client.get(invite_url(members_world.customer)).status_code == 403


# --- the initial password must be changed at first login -------------------------------------------


def test_first_login_with_an_initial_password_forces_a_change_and_returns_to_the_link(members_world, client):
    invitation_create(
        organization=members_world.customer,
        email="first@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.partner_admin,
        initial_password="Initial-Passw0rd-2026",
        language="en",
    )
    [message] = send_outbox()
    accept_url = reverse("invitation-accept", kwargs={"token": link_token(message)})
    assert client.get(accept_url).context["mode"] == "login"
    assert (
        client.post(
            reverse("login"), {"username": "first@example.com", "password": "Initial-Passw0rd-2026"}
        ).status_code
        == 302
    )
    response = client.get(accept_url)
    change_url = reverse("password_change")
    assert response.status_code == 302 and response["Location"].startswith(change_url)
    assert client.get(reverse("home"))["Location"].startswith(change_url)
    new = "My-Own-Passw0rd-2026"
    page = client.get(response["Location"])
    assert page.context["next"] == accept_url
    response = client.post(
        change_url,
        {"old_password": "Initial-Passw0rd-2026", "new_password1": new, "new_password2": new, "next": accept_url},
    )
    assert response["Location"] == accept_url
    user = User.objects.get(email="first@example.com")
    assert not user.must_change_password and user.check_password(new)
    assert client.get(accept_url).context["mode"] == "accept"
    assert client.post(accept_url).status_code == 302
    assert Membership.objects.get(user=user, organization=members_world.customer).role == OrgRole.MEMBER


def test_the_password_change_refuses_foreign_next_urls(members_world, client):
    user = factories.UserFactory(must_change_password=True)
    client.force_login(user)
    new = "My-Own-Passw0rd-2026"
    response = client.post(
        reverse("password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": new,
            "new_password2": new,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("password_change_done")
