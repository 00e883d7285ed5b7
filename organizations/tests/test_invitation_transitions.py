"""ORG-5: every allowed and refused transition of an invitation, expiry when read, resend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.models import AuditEvent, Invitation, User
from organizations.roles import OrgRole
from portal.errors import Conflict, PermissionDenied
from portal.models import OutboxMessage
from portal.state_machine import allowed_sources
from tests import factories

from ..services.invitations import (
    InvitationClosed,
    invitation_accept,
    invitation_create,
    invitation_expire_due,
    invitation_resend,
    invitation_revoke,
)
from .conftest import link_token, send_outbox

pytestmark = pytest.mark.django_db
Status = Invitation.Status


def invite(world, email="person@example.com", role=OrgRole.MEMBER):
    invitation = invitation_create(organization=world.customer, email=email, role=role, actor=world.customer_owner)
    [message] = send_outbox()
    return invitation, link_token(message)


def put(invitation, status, **fields):
    Invitation.objects.filter(pk=invitation.pk).update(status=status, **fields)
    invitation.refresh_from_db()


def allow_resend(invitation):
    """Resends within a minute are refused; move the last sending back."""
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(minutes=2))
    invitation.refresh_from_db()


def test_the_table():
    assert Invitation.TRANSITIONS == {
        Status.PENDING: {Status.ACCEPTED, Status.REVOKED, Status.EXPIRED, Status.PENDING},
        Status.EXPIRED: {Status.PENDING},
    }
    assert allowed_sources(Invitation, Status.ACCEPTED) == {Status.PENDING}
    assert allowed_sources(Invitation, Status.PENDING) == {Status.PENDING, Status.EXPIRED}


# --- pending → accepted ------------------------------------------------------------------------------


def test_pending_to_accepted(members_world):
    invitation, token = invite(members_world)
    person = factories.UserFactory(email="person@example.com")
    membership = invitation_accept(token=token, user=person)
    invitation.refresh_from_db()
    assert invitation.status == Status.ACCEPTED and invitation.accepted_at is not None
    assert membership.role == OrgRole.MEMBER
    assert AuditEvent.objects.filter(action="invitation.accepted", target_id=str(invitation.pk), actor=person).exists()
    assert AuditEvent.objects.filter(action="membership.added", organization=members_world.customer).exists()


@pytest.mark.parametrize(
    "status, code", [(Status.ACCEPTED, "already_accepted"), (Status.REVOKED, "revoked"), (Status.EXPIRED, "expired")]
)
def test_a_closed_invitation_cannot_be_accepted(members_world, status, code):
    invitation, token = invite(members_world)
    put(invitation, status)
    with pytest.raises(InvitationClosed) as error:
        invitation_accept(token=token, user=factories.UserFactory(email="person@example.com"))
    assert error.value.code == code and error.value.status == 410


def test_expiry_is_honoured_when_read_before_any_job_ran(members_world):
    invitation, token = invite(members_world)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Invitation.objects.with_current_status().get(pk=invitation.pk).current_status == Status.EXPIRED
    assert Invitation.objects.get(pk=invitation.pk).status == Status.PENDING  # not recorded yet
    with pytest.raises(InvitationClosed) as error:
        invitation_accept(token=token, user=factories.UserFactory(email="person@example.com"))
    assert error.value.code == "expired"
    invitation.refresh_from_db()
    assert invitation.status == Status.EXPIRED  # recorded on the way, kept despite the refusal
    assert AuditEvent.objects.filter(action="invitation.expired", target_id=str(invitation.pk)).count() == 1


def test_the_periodic_job_records_expiries_once(members_world):
    due, _token = invite(members_world, "due@example.com")
    fresh, _token = invite(members_world, "fresh@example.com")
    Invitation.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert invitation_expire_due() == 1
    assert invitation_expire_due() == 0
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == (Status.EXPIRED, Status.PENDING)


def test_invitations_expire_after_seven_days(members_world, settings):
    invitation, _token = invite(members_world)
    assert settings.INVITATION_VALID_DAYS == 7
    assert timedelta(days=7) - timedelta(seconds=5) < invitation.expires_at - invitation.created_at <= timedelta(days=7)


# --- pending → revoked -----------------------------------------------------------------------------


def test_pending_to_revoked(members_world):
    invitation, token = invite(members_world)
    invitation_revoke(invitation=invitation, actor=members_world.customer_admin)
    assert invitation.status == Status.REVOKED and invitation.revoked_by == members_world.customer_admin
    assert AuditEvent.objects.filter(action="invitation.revoked", target_id=str(invitation.pk)).exists()


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.REVOKED, Status.EXPIRED])
def test_only_pending_invitations_can_be_revoked(members_world, status):
    invitation, _token = invite(members_world)
    put(invitation, status)
    with pytest.raises(Conflict):
        invitation_revoke(invitation=invitation, actor=members_world.customer_owner)
    invitation.refresh_from_db()
    assert invitation.status == status


def test_revoking_a_pending_invitation_past_its_time_is_refused_as_expired(members_world):
    invitation, _token = invite(members_world)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    invitation.refresh_from_db()
    with pytest.raises(Conflict):
        invitation_revoke(invitation=invitation, actor=members_world.customer_owner)
    invitation.refresh_from_db()
    assert invitation.status == Status.EXPIRED


def test_revoking_disables_an_unused_initial_password(members_world):
    invitation = invitation_create(
        organization=members_world.customer,
        email="prep@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.partner_admin,
        initial_password="Initial-Passw0rd-2026",
    )
    invitation_revoke(invitation=invitation, actor=members_world.customer_owner)
    assert not User.objects.get(email="prep@example.com").has_usable_password()


# --- resend: pending | expired → pending ------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.PENDING, Status.EXPIRED])
def test_resend_renews_the_invitation_with_a_new_link(members_world, status):
    invitation, old_token = invite(members_world)
    put(
        invitation,
        status,
        expires_at=timezone.now() - timedelta(days=1) if status == Status.EXPIRED else invitation.expires_at,
    )
    allow_resend(invitation)
    invitation_resend(invitation=invitation, actor=members_world.customer_admin)
    assert invitation.status == Status.PENDING and invitation.send_count == 2
    assert invitation.expires_at > timezone.now() + timedelta(days=6, hours=23)
    [message] = send_outbox()
    new_token = link_token(message)
    assert new_token != old_token
    person = factories.UserFactory(email="person@example.com")
    with pytest.raises(Exception) as error:
        invitation_accept(token=old_token, user=person)
    assert getattr(error.value, "status", None) == 404  # the old link no longer works
    invitation_accept(token=new_token, user=person)


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.REVOKED])
def test_accepted_and_revoked_invitations_cannot_be_resent(members_world, status):
    invitation, _token = invite(members_world)
    put(invitation, status)
    allow_resend(invitation)
    with pytest.raises(Conflict):
        invitation_resend(invitation=invitation, actor=members_world.customer_owner)
    assert not OutboxMessage.objects.filter(dedupe_key=f"invitation:{invitation.pk}:2").exists()


def test_a_second_resend_within_a_minute_is_refused(members_world):
    invitation, _token = invite(members_world)
    with pytest.raises(Conflict) as error:
        invitation_resend(invitation=invitation, actor=members_world.customer_owner)
    assert error.value.code == "resent_recently"


def test_resending_an_expired_invitation_is_refused_when_a_newer_one_is_pending(members_world):
    old, _token = invite(members_world)
    put(old, Status.EXPIRED)
    invite(members_world)  # a new pending invitation to the same address
    allow_resend(old)
    with pytest.raises(Conflict) as error:
        invitation_resend(invitation=old, actor=members_world.customer_owner)
    assert error.value.code == "duplicate"


def test_an_admin_cannot_resend_or_revoke_an_owner_invitation(members_world):
    invitation, _token = invite(members_world, role=OrgRole.OWNER)
    allow_resend(invitation)
    with pytest.raises(PermissionDenied):
        invitation_resend(invitation=invitation, actor=members_world.customer_admin)
    with pytest.raises(PermissionDenied):
        invitation_revoke(invitation=invitation, actor=members_world.customer_admin)
    invitation_revoke(invitation=invitation, actor=members_world.customer_owner)


# --- the email never carries a link that does not work ------------------------------------------------


def test_no_email_for_an_invitation_revoked_before_the_worker_ran(members_world):
    invitation = invitation_create(
        organization=members_world.customer,
        email="x@example.com",
        role=OrgRole.GUEST,
        actor=members_world.customer_owner,
    )
    invitation_revoke(invitation=invitation, actor=members_world.customer_owner)
    assert send_outbox() == []
    assert OutboxMessage.objects.get(dedupe_key=f"invitation:{invitation.pk}:1").status == OutboxMessage.Status.DONE


def test_a_resend_supersedes_the_email_still_waiting(members_world):
    invitation = invitation_create(
        organization=members_world.customer,
        email="x@example.com",
        role=OrgRole.GUEST,
        actor=members_world.customer_owner,
    )
    allow_resend(invitation)
    invitation_resend(invitation=invitation, actor=members_world.customer_owner)
    [message] = send_outbox()  # only the email with the current link goes out
    invitation_accept(token=link_token(message), user=factories.UserFactory(email="x@example.com"))
