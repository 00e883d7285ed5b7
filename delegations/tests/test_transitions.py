"""The state machine (SPEC: pending → active | declined | cancelled | expired; active → revoked | expired):
every transition allowed and refused, from both sides and for both directions."""

from __future__ import annotations

import pytest
from django.utils import timezone

from delegations import services
from delegations.models import Delegation
from delegations.tests import factories as df
from organizations.models import AuditEvent
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from projects.models import ProjectRoleGrant
from projects.roles import ProjectAction
from projects.selectors import project_user_may

pytestmark = pytest.mark.django_db

S = Delegation.Status


def has_access(world) -> bool:
    grant = ProjectRoleGrant.objects.filter(
        project=world.project, organization=world.agency, source=ProjectRoleGrant.Source.DELEGATION
    ).exists()
    may = project_user_may(user=world.agency_member, project=world.project, action=ProjectAction.VIEW)
    assert grant == may
    return may


def ctx(user, organization):
    return df.context(user, organization)


def test_the_table_is_exactly_the_spec():
    assert Delegation.TRANSITIONS == {
        "pending": {"active", "declined", "cancelled", "expired"},
        "active": {"revoked", "expired"},
    }


# --- a request (DLG-1): the project side decides, the caretaker may withdraw --------------------


@pytest.mark.parametrize("decider", ["customer_owner", "customer_admin"])
def test_project_side_accepts_a_request(world, decider):
    delegation = df.request(world.project, world.agency)
    assert not has_access(world)
    user = getattr(world, decider)
    services.delegation_accept(delegation=delegation, context=ctx(user, world.customer), actor=user)
    delegation.refresh_from_db()
    assert (delegation.status, delegation.decided_by, delegation.caretaker) == (S.ACTIVE, user, world.agency)
    assert has_access(world)
    event = AuditEvent.objects.get(action="delegation.accepted")
    assert (event.organization, event.actor, event.acting_organization) == (world.customer, user, world.customer)
    assert (event.before["status"], event.after["status"]) == ("pending", "active")


def test_project_side_declines_a_request(world):
    delegation = df.request(world.project, world.agency)
    services.delegation_decline(
        delegation=delegation, context=ctx(world.customer_admin, world.customer), actor=world.customer_admin
    )
    delegation.refresh_from_db()
    assert delegation.status == S.DECLINED and not has_access(world)
    assert AuditEvent.objects.filter(action="delegation.declined", organization=world.customer).exists()


def test_caretaker_withdraws_its_request(world):
    delegation = df.request(world.project, world.agency)
    services.delegation_cancel(
        delegation=delegation, context=ctx(world.agency_admin, world.agency), actor=world.agency_admin
    )
    delegation.refresh_from_db()
    assert delegation.status == S.CANCELLED and delegation.ended_by == world.agency_admin
    event = AuditEvent.objects.get(action="delegation.cancelled")
    # the project org's trail shows what the caretaker did, and from where
    assert (event.organization, event.acting_organization) == (world.customer, world.agency)


@pytest.mark.parametrize("service", [services.delegation_accept, services.delegation_decline])
def test_caretaker_cannot_decide_its_own_request(world, service):
    delegation = df.request(world.project, world.agency)
    with pytest.raises(Conflict) as error:
        service(delegation=delegation, context=ctx(world.agency_owner, world.agency), actor=world.agency_owner)
    assert error.value.code == "wrong_side"
    assert Delegation.objects.get(pk=delegation.pk).status == S.PENDING and not has_access(world)


def test_project_side_cannot_withdraw_a_request_it_was_asked(world):
    delegation = df.request(world.project, world.agency)
    with pytest.raises(Conflict):
        services.delegation_cancel(
            delegation=delegation, context=ctx(world.customer_owner, world.customer), actor=world.customer_owner
        )
    assert Delegation.objects.get(pk=delegation.pk).status == S.PENDING


@pytest.mark.parametrize(
    "service, user, org",
    [
        (services.delegation_accept, "customer_member", "customer"),
        (services.delegation_decline, "customer_member", "customer"),
        (services.delegation_cancel, "agency_member", "agency"),
        (services.delegation_revoke, "agency_member", "agency"),
        (services.delegation_revoke, "customer_member", "customer"),
    ],
)
def test_members_cannot_decide_or_end(world, service, user, org):
    delegation = df.request(world.project, world.agency)
    with pytest.raises(PermissionDenied):
        service(
            delegation=delegation, context=ctx(getattr(world, user), getattr(world, org)), actor=getattr(world, user)
        )
    assert Delegation.objects.get(pk=delegation.pk).status == S.PENDING


def test_an_unrelated_org_cannot_act_on_it(world):
    from tests import factories

    stranger_org = factories.OrganizationFactory()
    stranger = factories.member(stranger_org)
    delegation = df.request(world.project, world.agency)
    for service in (
        services.delegation_accept,
        services.delegation_decline,
        services.delegation_cancel,
        services.delegation_revoke,
    ):
        with pytest.raises(NotFound):
            service(delegation=delegation, context=ctx(stranger, stranger_org), actor=stranger)


def test_revoke_of_a_pending_request_withdraws_for_the_caretaker_and_declines_for_the_project(world):
    first = df.request(world.project, world.agency)
    services.delegation_revoke(
        delegation=first, context=ctx(world.agency_owner, world.agency), actor=world.agency_owner
    )
    assert Delegation.objects.get(pk=first.pk).status == S.CANCELLED
    second = df.request(world.project, world.agency)
    services.delegation_revoke(
        delegation=second, context=ctx(world.customer_owner, world.customer), actor=world.customer_owner
    )
    assert Delegation.objects.get(pk=second.pk).status == S.DECLINED


# --- a release (DLG-2): the addressee decides through the link, the project side may withdraw ----


def test_addressee_accepts_a_release_for_its_org(world):
    released = df.release(world.project, world.agency_admin.email)
    assert released[0].caretaker is None and not has_access(world)
    accepted = services.delegation_release_accept(
        token=released[0].token, user=world.agency_admin, caretaker=world.agency
    )
    assert [d.pk for d in accepted] == [released[0].pk]
    delegation = Delegation.objects.get(pk=released[0].pk)
    assert (delegation.status, delegation.caretaker, delegation.decided_by) == (
        S.ACTIVE,
        world.agency,
        world.agency_admin,
    )
    assert has_access(world)
    event = AuditEvent.objects.get(action="delegation.accepted")
    assert (event.organization, event.acting_organization) == (world.customer, world.agency)


def test_addressee_declines_a_release(world):
    released = df.release(world.project, world.agency_admin.email)
    services.delegation_release_decline(token=released[0].token, user=world.agency_admin)
    assert Delegation.objects.get(pk=released[0].pk).status == S.DECLINED and not has_access(world)
    with pytest.raises(Conflict):
        services.delegation_release_decline(token=released[0].token, user=world.agency_admin)
    with pytest.raises(Conflict):
        services.delegation_release_accept(token=released[0].token, user=world.agency_admin, caretaker=world.agency)


def test_project_side_withdraws_a_release(world):
    released = df.release(world.project, world.agency_admin.email)
    services.delegation_cancel(
        delegation=released[0], context=ctx(world.customer_owner, world.customer), actor=world.customer_owner
    )
    assert Delegation.objects.get(pk=released[0].pk).status == S.CANCELLED
    with pytest.raises(Conflict):
        services.delegation_release_accept(token=released[0].token, user=world.agency_admin, caretaker=world.agency)
    assert not has_access(world)


@pytest.mark.parametrize("service", [services.delegation_accept, services.delegation_decline])
def test_project_side_cannot_decide_its_own_release(world, service):
    released = df.release(world.project, world.agency_admin.email)
    with pytest.raises(Conflict):
        service(delegation=released[0], context=ctx(world.customer_owner, world.customer), actor=world.customer_owner)
    assert Delegation.objects.get(pk=released[0].pk).status == S.PENDING


def test_a_pending_release_is_invisible_to_the_caretaker_org(world):
    released = df.release(world.project, world.agency_admin.email)
    for service in (services.delegation_cancel, services.delegation_revoke, services.delegation_accept):
        with pytest.raises(NotFound):
            service(delegation=released[0], context=ctx(world.agency_owner, world.agency), actor=world.agency_owner)


def test_release_cannot_be_accepted_by_someone_else_or_for_a_foreign_org(world):
    from organizations.services.members import membership_set
    from tests import factories

    released = df.release(world.project, world.agency_admin.email)
    token = released[0].token
    with pytest.raises(NotFound):  # another account, even an Owner of the agency
        services.delegation_release_accept(token=token, user=world.agency_owner, caretaker=world.agency)
    with pytest.raises(NotFound):
        services.delegation_release_accept(token="wrong-token", user=world.agency_admin, caretaker=world.agency)
    foreign = factories.OrganizationFactory()  # not a member there at all
    member_org = factories.OrganizationFactory()  # only a Member there
    membership_set(organization=member_org, user=world.agency_admin, role="member")
    membership_set(organization=world.customer, user=world.agency_admin, role="admin")  # the project's own org
    for caretaker in (foreign, member_org, world.customer):
        with pytest.raises(InvalidInput) as error:
            services.delegation_release_accept(token=token, user=world.agency_admin, caretaker=caretaker)
        assert error.value.field == "organization"
    assert Delegation.objects.get(pk=released[0].pk).status == S.PENDING


def test_release_email_matches_case_insensitively(world):
    released = df.release(world.project, world.agency_admin.email.upper())
    assert released[0].invited_email == world.agency_admin.email
    services.delegation_release_accept(token=released[0].token, user=world.agency_admin, caretaker=world.agency)
    assert has_access(world)


def test_release_of_several_projects_is_accepted_together(world):
    from tests import factories

    second = factories.project(world.customer, "CRM")
    released = df.release([world.project, second], world.agency_owner.email)
    assert len({d.token for d in released}) == 1
    # the customer withdraws one project before the caretaker comes: the other still counts
    services.delegation_cancel(
        delegation=released[1], context=ctx(world.customer_owner, world.customer), actor=world.customer_owner
    )
    accepted = services.delegation_release_accept(
        token=released[0].token, user=world.agency_owner, caretaker=world.agency
    )
    assert [d.project for d in accepted] == [released[0].project]


def test_accepting_a_release_supersedes_the_caretakers_own_request(world):
    request = df.request(world.project, world.agency)
    released = df.release(world.project, world.agency_owner.email)
    services.delegation_release_accept(token=released[0].token, user=world.agency_owner, caretaker=world.agency)
    assert Delegation.objects.get(pk=request.pk).status == S.CANCELLED
    assert Delegation.objects.get(pk=released[0].pk).status == S.ACTIVE


# --- active: either side revokes; nothing else applies ------------------------------------------


@pytest.mark.parametrize("via", ["request", "release"])
@pytest.mark.parametrize("side", ["customer_owner", "agency_admin"])
def test_either_side_revokes_an_active_delegation(world, via, side):
    delegation = df.active(world.project, world.agency, via=via)
    assert has_access(world)
    user = getattr(world, side)
    org = world.customer if side.startswith("customer") else world.agency
    services.delegation_revoke(delegation=delegation, context=ctx(user, org), actor=user)
    delegation.refresh_from_db()
    assert (delegation.status, delegation.ended_by) == (S.REVOKED, user)
    assert not has_access(world)
    event = AuditEvent.objects.get(action="delegation.revoked")
    assert (event.organization, event.acting_organization) == (world.customer, org)


@pytest.mark.parametrize("via", ["request", "release"])
def test_nothing_but_revoke_applies_to_an_active_delegation(world, via):
    delegation = df.active(world.project, world.agency, via=via)
    for service, user, org in [
        (services.delegation_accept, world.customer_owner, world.customer),
        (services.delegation_decline, world.customer_owner, world.customer),
        (services.delegation_cancel, world.customer_owner, world.customer),
        (services.delegation_cancel, world.agency_owner, world.agency),
    ]:
        with pytest.raises(Conflict):
            service(delegation=delegation, context=ctx(user, org), actor=user)
    assert Delegation.objects.get(pk=delegation.pk).status == S.ACTIVE and has_access(world)


@pytest.mark.parametrize("end", ["declined", "cancelled", "revoked", "expired"])
def test_ended_delegations_stay_ended(world, end):
    delegation = (
        df.active(world.project, world.agency)
        if end in ("revoked", "expired")
        else df.request(world.project, world.agency)
    )
    owner = ctx(world.customer_owner, world.customer)
    caretaker = ctx(world.agency_owner, world.agency)
    if end == "declined":
        services.delegation_decline(delegation=delegation, context=owner, actor=world.customer_owner)
    elif end == "cancelled":
        services.delegation_cancel(delegation=delegation, context=caretaker, actor=world.agency_owner)
    elif end == "revoked":
        services.delegation_revoke(delegation=delegation, context=owner, actor=world.customer_owner)
    else:
        assert services.delegation_expire(delegation=delegation) is False  # not due: nothing happens
        Delegation.objects.filter(pk=delegation.pk).update(ends_at=timezone.now())
        assert services.delegation_expire(delegation=delegation) is True
    delegation.refresh_from_db()
    assert delegation.status == end
    for service, context, user in [
        (services.delegation_accept, owner, world.customer_owner),
        (services.delegation_decline, owner, world.customer_owner),
        (services.delegation_cancel, caretaker, world.agency_owner),
        (services.delegation_revoke, owner, world.customer_owner),
        (services.delegation_revoke, caretaker, world.agency_owner),
    ]:
        with pytest.raises(Conflict):
            service(delegation=Delegation.objects.get(pk=delegation.pk), context=context, actor=user)
    assert Delegation.objects.get(pk=delegation.pk).status == end
    assert not has_access(world)
    # expiring again changes nothing either
    assert services.delegation_expire(delegation=delegation) is False


def test_stale_instance_loses_with_a_409(world):
    """Two tabs: one accepted, the other still shows the request and declines → 409, nothing changes."""
    delegation = df.request(world.project, world.agency)
    stale = Delegation.objects.get(pk=delegation.pk)
    services.delegation_accept(
        delegation=delegation, context=ctx(world.customer_owner, world.customer), actor=world.customer_owner
    )
    with pytest.raises(Conflict):
        services.delegation_decline(
            delegation=stale, context=ctx(world.customer_admin, world.customer), actor=world.customer_admin
        )
    assert Delegation.objects.get(pk=delegation.pk).status == S.ACTIVE and has_access(world)


def test_item_4_partner_staff_do_not_decide_for_a_linked_customer_even_calling_the_service(world):
    """Issue 11, item 4: accepting or declining a request is the customer's own consent."""
    from portal.errors import PermissionDenied
    from tests import factories

    partner = factories.PartnerFactory()
    factories.link(partner, world.customer)
    partner_admin = factories.member(partner, "admin")
    delegation = df.request(world.project, world.agency)
    for decide in (services.delegation_accept, services.delegation_decline, services.delegation_block_requester):
        with pytest.raises(PermissionDenied, match="customer's own Owners and Admins"):
            decide(delegation=delegation, context=ctx(partner_admin, world.customer), actor=partner_admin)
    # revoking is theirs, but revoking a pending request from the project side would be a decline
    with pytest.raises(Conflict, match="customer's own Owners and Admins"):
        services.delegation_revoke(
            delegation=delegation, context=ctx(partner_admin, world.customer), actor=partner_admin
        )
    assert Delegation.objects.get(pk=delegation.pk).status == S.PENDING
    services.delegation_accept(
        delegation=delegation, context=ctx(world.customer_admin, world.customer), actor=world.customer_admin
    )
    assert Delegation.objects.get(pk=delegation.pk).status == S.ACTIVE


def test_archiving_an_org_ends_its_delegations(world):
    from portal.hooks import run_hooks
    from tests import factories

    active = df.active(world.project, world.agency)
    pending = df.request(factories.project(world.customer, "Other"), world.agency)
    run_hooks("organization.archived", organization=world.agency, actor=None)
    assert Delegation.objects.get(pk=active.pk).status == S.REVOKED
    assert Delegation.objects.get(pk=pending.pk).status == S.CANCELLED
    assert not has_access(world)
