"""ORG-5: inviting by email – who may invite whom, bad input, no enumeration, the email."""

from __future__ import annotations

import pytest

from organizations.models import AuditEvent, Invitation, User
from organizations.roles import OrgRole
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from portal.models import OutboxMessage
from tests import factories

from ..services.invitations import invitation_create
from .conftest import link_token, send_outbox

pytestmark = pytest.mark.django_db


def test_owner_invites_a_new_address_and_the_email_goes_out_from_an_outbox_row(members_world):
    invitation = invitation_create(
        organization=members_world.customer,
        email="  New.Person@Example.COM ",
        role=OrgRole.ADMIN,
        actor=members_world.customer_owner,
        first_name="Nina",
        last_name="Neu",
        language="de",
    )
    assert invitation.status == Invitation.Status.PENDING
    assert invitation.email == "new.person@example.com"
    assert invitation.invited_by == members_world.customer_owner
    row = OutboxMessage.objects.get(dedupe_key=f"invitation:{invitation.pk}:1")
    assert row.status == OutboxMessage.Status.PENDING
    [email] = send_outbox()
    assert email.to == ["new.person@example.com"]
    assert email.subject == "Einladung zu Kunde AG"
    assert "Hallo Nina" in email.body and "als Administrator" in email.body
    token = link_token(email)
    assert Invitation.objects.get(token_hash=invitation.token_hash).pk == invitation.pk
    assert token not in invitation.token_hash  # only the hash is stored
    invitation.refresh_from_db()
    assert invitation.emailed_at is not None
    assert AuditEvent.objects.filter(action="invitation.created", target_id=str(invitation.pk)).exists()


def test_the_email_is_in_the_language_of_an_existing_account(members_world):
    factories.UserFactory(email="known@example.com", language="en", first_name="Kim")
    invitation_create(
        organization=members_world.customer,
        email="KNOWN@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.customer_owner,
        language="de",
    )
    [email] = send_outbox()
    assert email.subject == "Invitation to Kunde AG"
    assert "Hello Kim" in email.body


@pytest.mark.parametrize(
    "actor, role, allowed",
    [
        ("customer_owner", OrgRole.OWNER, True),
        ("customer_owner", OrgRole.ADMIN, True),
        ("customer_owner", OrgRole.GUEST, True),
        ("customer_admin", OrgRole.OWNER, False),
        ("customer_admin", OrgRole.ADMIN, True),
        ("customer_admin", OrgRole.MEMBER, True),
        ("customer_admin", OrgRole.GUEST, True),
        ("partner_owner", OrgRole.OWNER, False),  # acts in the customer as Admin
        ("partner_admin", OrgRole.ADMIN, True),
    ],
)
def test_nobody_invites_above_their_own_role(members_world, actor, role, allowed):
    def invite():
        return invitation_create(
            organization=members_world.customer,
            email="someone@example.com",
            role=role,
            actor=getattr(members_world, actor),
        )

    if allowed:
        assert invite().role == role
    else:
        with pytest.raises(PermissionDenied) as error:
            invite()
        assert error.value.code == "above_own_role"
        assert not Invitation.objects.exists()


@pytest.mark.parametrize("actor", ["customer_member", "customer_guest"])
def test_members_and_guests_cannot_invite(members_world, actor):
    with pytest.raises(PermissionDenied):
        invitation_create(
            organization=members_world.customer,
            email="x@example.com",
            role=OrgRole.GUEST,
            actor=getattr(members_world, actor),
        )


def test_partner_members_without_assignment_do_not_reach_the_customer(members_world):
    with pytest.raises(NotFound):
        invitation_create(
            organization=members_world.customer,
            email="x@example.com",
            role=OrgRole.GUEST,
            actor=members_world.partner_member,
        )


def test_a_stranger_gets_not_found(members_world):
    stranger = factories.member(factories.OrganizationFactory(), OrgRole.OWNER)
    with pytest.raises(NotFound):
        invitation_create(
            organization=members_world.customer, email="x@example.com", role=OrgRole.GUEST, actor=stranger
        )


def test_onboarding_partner_staff_invite_the_first_owner_of_a_new_customer_org(members_world):
    """ORG-2: the contact person of a customer org created by a partner is invited as Owner."""
    new_customer = factories.OrganizationFactory(name="Neukunde GmbH")
    factories.link(members_world.partner, new_customer)
    invitation = invitation_create(
        organization=new_customer,
        email="chef@neukunde.example",
        role=OrgRole.OWNER,
        actor=members_world.partner_admin,
        first_name="Clara",
        last_name="Chef",
    )
    assert invitation.role == OrgRole.OWNER


def test_support_staff_and_the_system_may_invite(members_world):
    support = factories.UserFactory(is_staff=True)
    assert invitation_create(
        organization=members_world.customer, email="a@example.com", role=OrgRole.OWNER, actor=support
    )
    assert invitation_create(organization=members_world.customer, email="b@example.com", role=OrgRole.OWNER, actor=None)


@pytest.mark.parametrize(
    "fields, error_field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"role": "superuser"}, "role"),
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_input_is_refused_with_a_field(members_world, fields, error_field):
    arguments = {"email": "ok@example.com", "role": OrgRole.MEMBER, **fields}
    with pytest.raises(InvalidInput) as error:
        invitation_create(organization=members_world.customer, actor=members_world.customer_owner, **arguments)
    assert error.value.field == error_field


def test_a_second_pending_invitation_for_the_same_address_is_refused(members_world):
    invitation_create(
        organization=members_world.customer,
        email="dup@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.customer_owner,
    )
    with pytest.raises(Conflict) as error:
        invitation_create(
            organization=members_world.customer,
            email="DUP@example.com",
            role=OrgRole.GUEST,
            actor=members_world.customer_admin,
        )
    assert error.value.code == "duplicate"
    # another org may invite the same address
    other = factories.OrganizationFactory()
    invitation_create(organization=other, email="dup@example.com", role=OrgRole.MEMBER, actor=factories.member(other))


def test_an_expired_invitation_does_not_block_a_new_one(members_world, freezer=None):
    first = invitation_create(
        organization=members_world.customer,
        email="late@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.customer_owner,
    )
    Invitation.objects.filter(pk=first.pk).update(expires_at=first.created_at)
    second = invitation_create(
        organization=members_world.customer,
        email="late@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.customer_owner,
    )
    first.refresh_from_db()
    assert first.status == Invitation.Status.EXPIRED and second.status == Invitation.Status.PENDING


def test_inviting_a_member_is_refused(members_world):
    with pytest.raises(Conflict) as error:
        invitation_create(
            organization=members_world.customer,
            email=members_world.customer_member.email.upper(),
            role=OrgRole.GUEST,
            actor=members_world.customer_owner,
        )
    assert error.value.code == "already_member"


def test_the_answer_is_the_same_whether_the_address_has_an_account(members_world):
    factories.UserFactory(email="exists@example.com")
    existing = invitation_create(
        organization=members_world.customer,
        email="exists@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.customer_owner,
    )
    new = invitation_create(
        organization=members_world.customer,
        email="fresh@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.customer_owner,
    )
    fields = ["status", "role", "with_initial_password", "send_count", "organization_id"]
    assert [getattr(existing, f) for f in fields] == [getattr(new, f) for f in fields]


# --- the optional initial password -----------------------------------------------------------------


def test_partner_staff_prepare_an_account_with_an_initial_password(members_world):
    invitation = invitation_create(
        organization=members_world.customer,
        email="prepared@example.com",
        role=OrgRole.OWNER,
        actor=None,
        initial_password="Initial-Passw0rd-2026",
        first_name="Pia",
    )
    invitation_create(
        organization=members_world.customer,
        email="prepared2@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.partner_admin,
        initial_password="Initial-Passw0rd-2026",
    )
    user = User.objects.get(email="prepared@example.com")
    assert user.check_password("Initial-Passw0rd-2026") and user.must_change_password
    assert invitation.with_initial_password
    emails = send_outbox()
    assert len(emails) == 2
    for email in emails:
        assert "Initial-Passw0rd-2026" not in email.body  # passwords are never emailed
        assert "initial password" in email.body


def test_an_initial_password_never_touches_an_existing_account(members_world):
    existing = factories.UserFactory(email="mine@example.com")
    invitation = invitation_create(
        organization=members_world.customer,
        email="mine@example.com",
        role=OrgRole.MEMBER,
        actor=members_world.partner_admin,
        initial_password="Initial-Passw0rd-2026",
    )
    existing.refresh_from_db()
    assert existing.check_password(factories.PASSWORD) and not existing.must_change_password
    assert invitation.with_initial_password and invitation.prepared_user is None
    [email] = send_outbox()
    assert "initial password" not in email.body


def test_customer_accounts_cannot_set_an_initial_password(members_world):
    with pytest.raises(PermissionDenied) as error:
        invitation_create(
            organization=members_world.customer,
            email="x@example.com",
            role=OrgRole.MEMBER,
            actor=members_world.customer_owner,
            initial_password="Initial-Passw0rd-2026",
        )
    assert error.value.field == "initial_password"


def test_a_weak_initial_password_is_refused(members_world):
    with pytest.raises(InvalidInput) as error:
        invitation_create(
            organization=members_world.customer,
            email="x@example.com",
            role=OrgRole.MEMBER,
            actor=members_world.partner_admin,
            initial_password="123",
        )
    assert error.value.field == "initial_password"
    assert not User.objects.filter(email="x@example.com").exists()
