"""ORG-5: the invitation link for new and existing accounts; used, withdrawn, expired links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations.models import Invitation, Membership, User
from organizations.roles import OrgRole
from portal.errors import PermissionDenied
from tests import factories

from ..services.invitations import InvitationClosed, invitation_accept, invitation_create, invitation_revoke
from .conftest import link_token, send_outbox

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Brand-New-Passw0rd-2026"


def invite(world, email="invitee@example.com", role=OrgRole.MEMBER, language="en", **extra):
    invitation = invitation_create(
        organization=world.customer, email=email, role=role, actor=world.customer_owner, language=language, **extra
    )
    [email_message] = send_outbox()
    return invitation, link_token(email_message)


def url(token):
    return reverse("invitation-accept", kwargs={"token": token})


def test_a_new_person_sets_name_and_password_and_becomes_a_member(members_world, client):
    invitation, token = invite(members_world, first_name="Nora", last_name="Neu")
    page = client.get(url(token))
    assert page.status_code == 200
    assert page.context["mode"] == "new_account"
    assert page.context["form"].initial == {"first_name": "Nora", "last_name": "Neu"}
    response = client.post(
        url(token), {"first_name": "Nora", "last_name": "Neu", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("organization-dashboard", kwargs={"org": members_world.customer.public_id})
    user = User.objects.get(email="invitee@example.com")
    assert user.check_password(NEW_PASSWORD) and user.get_full_name() == "Nora Neu"
    assert Membership.objects.get(user=user, organization=members_world.customer).role == OrgRole.MEMBER
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED and invitation.accepted_by == user
    assert client.get(response["Location"]).status_code == 200  # logged in
    # the link is used now
    again = client.get(url(token))
    assert again.status_code == 410
    assert "already been accepted" in again.content.decode()


def test_an_existing_account_logs_in_then_accepts(members_world, client):
    person = factories.UserFactory(email="known@example.com")
    invitation, token = invite(members_world, email="Known@Example.com", role=OrgRole.ADMIN)
    page = client.get(url(token))
    assert page.context["mode"] == "login"
    assert page.context["login_url"] == f"/accounts/login/?next=%2Finvitations%2F{token}%2F"
    assert client.post(url(token)).status_code == 400  # anonymous cannot accept for an account
    client.force_login(person)
    assert client.get(url(token)).context["mode"] == "accept"
    response = client.post(url(token))
    assert response.status_code == 302
    assert Membership.objects.get(user=person, organization=members_world.customer).role == OrgRole.ADMIN


def test_another_account_cannot_accept(members_world, client):
    _invitation, token = invite(members_world)
    client.force_login(members_world.partner_owner)
    page = client.get(url(token))
    assert page.status_code == 403 and page.context["mode"] == "wrong_account"
    assert "an eine andere E-Mail-Adresse gesendet" in page.content.decode()  # the partner owner reads German
    assert client.post(url(token)).status_code == 403
    with pytest.raises(PermissionDenied):
        invitation_accept(token=token, user=members_world.partner_owner)
    assert not Membership.objects.filter(user=members_world.partner_owner, organization=members_world.customer).exists()


def test_an_unknown_link_is_404(members_world, client):
    response = client.get(url("no-such-token"))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_revoked_link_is_410(members_world, client):
    invitation, token = invite(members_world)
    invitation_revoke(invitation=invitation, actor=members_world.customer_admin)
    response = client.get(url(token))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_an_expired_link_is_410_and_the_expiry_is_recorded(members_world, client):
    invitation, token = invite(members_world)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(url(token))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED
    with pytest.raises(InvitationClosed):
        invitation_accept(token=token, user=factories.UserFactory(email="invitee@example.com"))
