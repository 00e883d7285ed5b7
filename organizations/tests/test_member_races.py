"""ORG-5 races on real PostgreSQL (two threads, two connections): exactly one wins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from organizations.models import AuditEvent, Invitation, Membership, User
from organizations.roles import OrgRole
from portal.errors import Conflict, NotFound, PermissionDenied
from portal.models import OutboxMessage
from tests import factories
from tests.races import one_winner, run_together

from ..services.invitations import (
    InvitationClosed,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from ..services.members import member_change_role, member_remove
from .conftest import link_token, send_outbox

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Race-Passw0rd-2026"


@pytest.fixture
def org(transactional_db):
    organization = factories.OrganizationFactory(name="Race AG")
    return organization, factories.member(organization, OrgRole.OWNER)


def invite(org, email="racer@example.com"):
    organization, owner = org
    invitation = invitation_create(organization=organization, email=email, role=OrgRole.MEMBER, actor=owner)
    # committed at once here, so the eager task already sent it (or the outbox still holds it)
    [message] = send_outbox() or mail.outbox[-1:]
    return invitation, link_token(message)


@pytest.mark.parametrize("round_", range(3))
def test_accept_against_revoke(org, round_):
    invitation, token = invite(org)
    person = factories.UserFactory(email="racer@example.com")
    results = run_together(
        lambda: invitation_accept(token=token, user=person),
        lambda: invitation_revoke(invitation=Invitation.objects.get(pk=invitation.pk), actor=org[1]),
    )
    one_winner(results)
    invitation.refresh_from_db()
    member = Membership.objects.filter(user=person, organization=org[0]).exists()
    assert member == (invitation.status == Invitation.Status.ACCEPTED)
    assert (
        AuditEvent.objects.filter(
            target_id=str(invitation.pk), action__in=["invitation.accepted", "invitation.revoked"]
        ).count()
        == 1
    )


@pytest.mark.parametrize("round_", range(3))
def test_a_double_accept_with_a_new_account_creates_one_account(org, round_):
    _invitation, token = invite(org)
    accept = lambda: invitation_accept_new_account(token=token, first_name="Ra", last_name="Cer", password=PASSWORD)  # noqa: E731
    one_winner(run_together(accept, accept), (Conflict, InvitationClosed))
    assert User.objects.filter(email="racer@example.com").count() == 1
    assert Membership.objects.filter(user__email="racer@example.com", organization=org[0]).count() == 1


def test_two_resends_send_one_email(org):
    invitation, _token = invite(org)
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(minutes=5))
    resend = lambda: invitation_resend(invitation=Invitation.objects.get(pk=invitation.pk), actor=org[1])  # noqa: E731
    one_winner(run_together(resend, resend), Conflict)
    assert Invitation.objects.get(pk=invitation.pk).send_count == 2
    assert OutboxMessage.objects.filter(dedupe_key__startswith=f"invitation:{invitation.pk}:").count() == 2


def test_two_invitations_of_the_same_address_at_once(org):
    organization, owner = org
    create = lambda: invitation_create(
        organization=organization, email="same@example.com", role=OrgRole.GUEST, actor=owner
    )  # noqa: E731
    one_winner(run_together(create, create), Conflict)
    assert Invitation.objects.filter(email="same@example.com", status=Invitation.Status.PENDING).count() == 1


@pytest.mark.parametrize("action", ["demote", "remove"])
def test_two_owners_cannot_leave_the_org_without_owner(org, action):
    organization, first = org
    second = factories.member(organization, OrgRole.OWNER)
    rows = {user.pk: Membership.objects.get(user=user, organization=organization) for user in (first, second)}

    def change(actor, target):
        if action == "demote":
            return lambda: member_change_role(membership=rows[target.pk], role=OrgRole.ADMIN, actor=actor)
        return lambda: member_remove(membership=rows[target.pk], actor=actor)

    # each Owner demotes (or removes) the other at the same moment. The loser gets 409 when both
    # passed the role check – or, when the winner committed before the loser's request started,
    # 403 (it is only Admin now) or 404 (it is no member any more).
    results = run_together(change(first, second), change(second, first))
    one_winner(results, (Conflict, PermissionDenied) if action == "demote" else (Conflict, NotFound))
    assert Membership.objects.filter(organization=organization, role=OrgRole.OWNER).count() == 1
