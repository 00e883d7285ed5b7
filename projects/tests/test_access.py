"""PRJ-2 and PRJ-4: every role against every action, grant expiry, External limits, inherited
access – decided by `project_access_q` in SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from organizations.models import CustomerRelation, Membership, Organization, StaffAssignment
from organizations.roles import OrgRole
from organizations.services.members import membership_remove, membership_set
from portal.errors import Conflict, PermissionDenied
from projects.models import Project, ProjectRoleGrant
from projects.roles import PROJECT_ROLE_ACTIONS, ProjectAction, ProjectRole, role_allows
from projects.selectors import (
    allowed_actions_of,
    project_annotate_for_user,
    project_list_for_user,
    project_require,
    project_user_may,
)
from projects.services import project_archive, project_grant_role, project_revoke_grant
from tests import factories
from tests.world import build_world

from .people import EXPECTED_ROLE, person_of

pytestmark = pytest.mark.django_db


def project_allowed_actions(*, user, project) -> set[str]:
    """Every action `user` may perform on `project` (what the pages and the API annotate)."""
    annotated = project_annotate_for_user(Project.objects.filter(pk=project.pk), user=user, actions=True).get()
    return set(allowed_actions_of(annotated))


ALL_ACTIONS = set(ProjectAction.values)


def visible(user) -> set[str]:
    return {project.number for project in project_list_for_user(user=user)}


# --- the role table --------------------------------------------------------------------------


def test_the_role_table():
    V, C, M, O, D = "view", "change", "manage_members", "order_services", "delete"
    assert PROJECT_ROLE_ACTIONS == {
        "admin": {V, C, M, O, D},
        "developer": {V, C},
        "viewer": {V},
        "external": {V, C},
    }


@pytest.mark.parametrize("role", ProjectRole.values)
@pytest.mark.parametrize("action", ProjectAction.values)
def test_every_role_against_every_action(role, action):
    project = factories.project(factories.OrganizationFactory())
    user = factories.UserFactory()
    factories.grant(project, user, role)
    assert project_user_may(user=user, project=project, action=action) == role_allows(role, action)
    assert (project.number in {p.number for p in project_list_for_user(user=user, action=action)}) == role_allows(
        role, action
    )


def test_external_is_technical_administration_only():
    project = factories.project(factories.OrganizationFactory())
    user = factories.UserFactory()
    factories.grant(project, user, ProjectRole.EXTERNAL)
    assert project_allowed_actions(user=user, project=project) == {"view", "change"}
    for action in ("manage_members", "order_services", "delete"):
        with pytest.raises(PermissionDenied):
            project_require(user=user, project=project, action=action)


def test_guardian_rows_follow_the_role_table_and_vanish_with_the_grant():
    project = factories.project(factories.OrganizationFactory())
    user = factories.UserFactory()
    grant = factories.grant(project, user, ProjectRole.DEVELOPER)
    codenames = set(grant.user_permissions.values_list("permission__codename", flat=True))
    assert codenames == {"view_project", "change_project"}
    grant = project_grant_role(project=project, user=user, role=ProjectRole.ADMIN)
    assert grant.user_permissions.count() == 5
    project_revoke_grant(grant=grant)
    assert not project_user_may(user=user, project=project, action="view")


def test_a_role_on_one_project_gives_nothing_on_another():
    organization = factories.OrganizationFactory()
    first, second = factories.project(organization, "First"), factories.project(organization, "Second")
    user = factories.UserFactory()
    factories.grant(first, user, ProjectRole.ADMIN)
    assert visible(user) == {first.number}
    assert project_allowed_actions(user=user, project=second) == set()


# --- inherited access (PRJ-4) and every way of reaching a project -----------------------------


@pytest.mark.parametrize("person", list(EXPECTED_ROLE))
def test_each_person_holds_exactly_the_actions_of_their_effective_role(person):
    world = build_world()
    user = person_of(world, person)
    role = EXPECTED_ROLE[person]
    expected = set(PROJECT_ROLE_ACTIONS[role]) if role else set()
    assert project_allowed_actions(user=user, project=world.delegated_project) == expected
    assert (world.delegated_project.number in visible(user)) == (role is not None)


@pytest.mark.parametrize("org_role", [OrgRole.MEMBER, OrgRole.GUEST])
def test_plain_members_and_guests_of_the_org_inherit_nothing(org_role):
    organization = factories.OrganizationFactory()
    project = factories.project(organization)
    user = factories.member(organization, org_role)
    assert visible(user) == set()
    factories.grant(project, user, ProjectRole.VIEWER)
    assert visible(user) == {project.number}


def test_changing_the_org_role_changes_inherited_access_at_once():
    organization = factories.OrganizationFactory()
    project = factories.project(organization)
    user = factories.member(organization, OrgRole.ADMIN)
    assert project_allowed_actions(user=user, project=project) == ALL_ACTIONS
    membership_set(organization=organization, user=user, role=OrgRole.MEMBER)
    assert project_allowed_actions(user=user, project=project) == set()


def test_ending_the_customer_relation_ends_partner_access_at_once():
    world = build_world()
    staff = [
        person_of(world, p)
        for p in ("partner_owner", "partner_admin", "partner_member_assigned", "partner_guest_assigned")
    ]
    own = [person_of(world, p) for p in ("org_owner", "grant_viewer", "caretaker")]
    assert all(world.delegated_project.number in visible(user) for user in staff + own)

    CustomerRelation.objects.filter(customer=world.customer).update(status=CustomerRelation.Status.ENDED)

    assert all(visible(user) == set() for user in staff)
    # the customer's own people, direct roles and caretakers are not affected
    assert all(world.delegated_project.number in visible(user) for user in own)


def test_a_new_partner_relation_gives_the_new_partner_access_and_not_the_old_one():
    world = build_world()
    old_owner = person_of(world, "partner_owner")
    CustomerRelation.objects.filter(customer=world.customer).update(status=CustomerRelation.Status.ENDED)
    new_partner = factories.PartnerFactory()
    new_owner = factories.member(new_partner, OrgRole.OWNER)
    factories.link(new_partner, world.customer)
    assert visible(old_owner) == set()
    assert world.delegated_project.number in visible(new_owner)


def test_staff_assignment_decides_for_partner_members_and_guests():
    world = build_world()
    member = person_of(world, "partner_member_assigned")
    assert world.delegated_project.number in visible(member)
    StaffAssignment.objects.filter(membership__user=member).delete()
    assert visible(member) == set()


def test_an_assignment_to_another_customer_reaches_only_that_customer():
    world = build_world()
    other_customer = factories.OrganizationFactory()
    factories.link(world.partner, other_customer)
    other_project = factories.project(other_customer, "Other customer's")
    member = factories.member(world.partner, OrgRole.MEMBER)
    factories.assign(member, world.partner, other_customer)
    assert visible(member) == {other_project.number}


def test_partner_staff_of_another_partner_get_nothing():
    world = build_world()
    assert visible(person_of(world, "other_partner_owner")) == set()


def test_partner_owners_see_their_own_projects_and_every_linked_customers():
    world = build_world()
    own = factories.project(world.partner, "Partner's own")
    unlinked = factories.project(factories.OrganizationFactory(), "Not a customer")
    owner = person_of(world, "partner_owner")
    assert visible(owner) == {own.number, world.delegated_project.number, world.project.number}
    assert unlinked.number not in visible(owner)


def test_archiving_the_customer_org_ends_every_access_to_its_projects():
    world = build_world()
    people = [person_of(world, p) for p in EXPECTED_ROLE if EXPECTED_ROLE[p]]
    Organization.objects.filter(pk=world.customer.pk).update(status=Organization.Status.ARCHIVED)
    for user in people:
        assert visible(user) == set()
        assert project_allowed_actions(user=user, project=world.delegated_project) == set()


def test_archiving_the_partner_org_ends_partner_staff_access_to_customers():
    world = build_world()
    staff = [person_of(world, p) for p in ("partner_owner", "partner_admin", "partner_member_assigned")]
    customer_owner = person_of(world, "org_owner")
    Organization.objects.filter(pk=world.partner.pk).update(status=Organization.Status.ARCHIVED)
    assert all(visible(user) == set() for user in staff)
    assert world.delegated_project.number in visible(customer_owner)


def test_archiving_the_partner_org_ends_end_customer_roles_on_its_projects():
    partner = factories.PartnerFactory()
    project = factories.project(partner, "End-customer shop")
    enduser = factories.UserFactory()
    factories.grant(project, enduser, ProjectRole.ADMIN)
    assert visible(enduser) == {project.number}
    Organization.objects.filter(pk=partner.pk).update(status=Organization.Status.ARCHIVED)
    assert visible(enduser) == set()


def test_archiving_the_caretaker_org_ends_its_delegated_access():
    world = build_world()
    caretaker = person_of(world, "caretaker")
    Organization.objects.filter(pk=world.agency.pk).update(status=Organization.Status.ARCHIVED)
    assert visible(caretaker) == set()


def test_leaving_the_caretaker_org_ends_delegated_access():
    world = build_world()
    caretaker = person_of(world, "caretaker")
    membership_remove(membership=Membership.objects.get(user=caretaker, organization=world.agency))
    assert visible(caretaker) == set()


def test_a_stale_group_membership_alone_gives_no_delegated_access():
    world = build_world()
    caretaker = person_of(world, "caretaker")
    # a membership deleted behind the service's back leaves the guardian group in place
    Membership.objects.filter(user=caretaker).delete()
    assert caretaker.groups.filter(pk=world.agency.members_group_id).exists()
    assert visible(caretaker) == set()


# --- grant expiry (frozen clock) --------------------------------------------------------------


def test_a_grant_is_honoured_until_its_end_and_not_after():
    project = factories.project(factories.OrganizationFactory())
    user = factories.UserFactory()
    end = timezone.now() + timedelta(days=3)
    factories.grant(project, user, ProjectRole.DEVELOPER, expires_at=end)

    with time_machine.travel(end - timedelta(microseconds=1), tick=False):
        assert visible(user) == {project.number}
        assert project_allowed_actions(user=user, project=project) == {"view", "change"}
    with time_machine.travel(end, tick=False):
        assert visible(user) == set()
        assert project_allowed_actions(user=user, project=project) == set()
    with time_machine.travel(end + timedelta(days=1), tick=False):
        assert visible(user) == set()


def test_an_expired_caretaker_delegation_is_not_honoured_even_without_a_job():
    world = build_world()
    caretaker = person_of(world, "caretaker")
    end = timezone.now() + timedelta(hours=5)
    project_grant_role(
        project=world.delegated_project,
        organization=world.agency,
        role=ProjectRole.EXTERNAL,
        source=ProjectRoleGrant.Source.DELEGATION,
        expires_at=end,
    )
    with time_machine.travel(end - timedelta(seconds=1), tick=False):
        assert visible(caretaker) == {world.delegated_project.number}
    with time_machine.travel(end, tick=False):
        assert visible(caretaker) == set()


def test_an_expired_grant_does_not_hide_inherited_access():
    organization = factories.OrganizationFactory()
    project = factories.project(organization)
    admin = factories.member(organization, OrgRole.ADMIN)
    factories.grant(project, admin, ProjectRole.VIEWER, expires_at=timezone.now() - timedelta(days=1))
    assert project_allowed_actions(user=admin, project=project) == ALL_ACTIONS


# --- archived projects --------------------------------------------------------------------------


def test_an_archived_project_can_be_seen_restored_or_deleted_but_not_changed():
    project = factories.project(factories.OrganizationFactory())
    admin, viewer = factories.UserFactory(), factories.UserFactory()
    factories.grant(project, admin, ProjectRole.ADMIN)
    factories.grant(project, viewer, ProjectRole.VIEWER)
    project_archive(project=project, actor=admin)
    assert project_allowed_actions(user=admin, project=project) == {"view", "delete"}
    with pytest.raises(Conflict):
        project_require(user=admin, project=project, action="change")
    with pytest.raises(Conflict):
        project_require(user=admin, project=project, action="order_services")
    # a viewer could not change it anyway: a plain 403, not a hint about the status
    with pytest.raises(PermissionDenied):
        project_require(user=viewer, project=project, action="change")
    assert Project.objects.get(pk=project.pk).status == "archived"
