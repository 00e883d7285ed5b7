"""ORG-5: each role against each member action; nobody above their own rank; the last Owner stays."""

from __future__ import annotations

import pytest

from organizations.models import AuditEvent, Membership
from organizations.roles import OrgRole, can_grant_role, can_manage_member, grantable_roles
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests import factories

from ..services.members import member_change_role, member_remove

pytestmark = pytest.mark.django_db

O, A, M, G = OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER, OrgRole.GUEST


def test_the_rank_rules():
    assert grantable_roles(O) == [O, A, M, G]
    assert grantable_roles(A) == [A, M, G]
    assert grantable_roles(M) == [M, G]  # the table still decides whether Members may invite at all
    assert grantable_roles(A, organization_has_owner=False) == [O, A, M, G]
    assert can_manage_member(A, A) and not can_manage_member(A, O) and can_manage_member(O, O)
    assert not can_grant_role(None, G) and not can_grant_role(A, "root")


def membership(world, name):
    return Membership.objects.get(user=getattr(world, name), organization=world.customer)


# (actor, target member, new role) -> allowed?
ROLE_CHANGES = [
    ("customer_owner", "customer_admin", O, True),
    ("customer_owner", "customer_admin", G, True),
    ("customer_owner", "customer_member", A, True),
    ("customer_admin", "customer_member", A, True),
    ("customer_admin", "customer_member", G, True),
    ("customer_admin", "customer_guest", M, True),
    ("customer_admin", "customer_member", O, False),  # above own rank
    ("customer_admin", "customer_owner", A, False),  # only Owners manage Owners
    ("partner_owner", "customer_member", A, True),  # partner staff act as Admin
    ("partner_owner", "customer_owner", A, False),
    ("partner_admin", "customer_guest", O, False),
]


@pytest.mark.parametrize("actor, target, role, allowed", ROLE_CHANGES)
def test_role_changes(members_world, actor, target, role, allowed):
    row = membership(members_world, target)
    before = row.role
    if allowed:
        assert member_change_role(membership=row, role=role, actor=getattr(members_world, actor)).role == role
        assert AuditEvent.objects.filter(action="membership.changed", target_id=str(row.pk)).exists()
    else:
        with pytest.raises(PermissionDenied):
            member_change_role(membership=row, role=role, actor=getattr(members_world, actor))
        row.refresh_from_db()
        assert row.role == before


@pytest.mark.parametrize("actor", ["customer_member", "customer_guest"])
@pytest.mark.parametrize("target", ["customer_guest", "customer_member"])
def test_members_and_guests_manage_nobody(members_world, actor, target):
    with pytest.raises(PermissionDenied):
        member_change_role(membership=membership(members_world, target), role=G, actor=getattr(members_world, actor))
    with pytest.raises(PermissionDenied):
        member_remove(membership=membership(members_world, target), actor=getattr(members_world, actor))


REMOVALS = [
    ("customer_owner", "customer_admin", True),
    ("customer_owner", "customer_guest", True),
    ("customer_admin", "customer_admin", True),  # an Admin may remove itself or another Admin
    ("customer_admin", "customer_member", True),
    ("customer_admin", "customer_owner", False),
    ("partner_admin", "customer_member", True),
    ("partner_admin", "customer_owner", False),
]


@pytest.mark.parametrize("actor, target, allowed", REMOVALS)
def test_removals(members_world, actor, target, allowed):
    row = membership(members_world, target)
    if allowed:
        member_remove(membership=row, actor=getattr(members_world, actor))
        assert not Membership.objects.filter(pk=row.pk).exists()
        assert AuditEvent.objects.filter(action="membership.removed", target_id=str(row.pk)).exists()
        # the person leaves the org's members group too
        assert not getattr(members_world, target).groups.filter(pk=members_world.customer.members_group_id).exists()
    else:
        with pytest.raises(PermissionDenied):
            member_remove(membership=row, actor=getattr(members_world, actor))
        assert Membership.objects.filter(pk=row.pk).exists()


def test_the_last_owner_can_be_neither_demoted_nor_removed(members_world):
    owner = membership(members_world, "customer_owner")
    with pytest.raises(Conflict) as error:
        member_change_role(membership=owner, role=A, actor=members_world.customer_owner)
    assert error.value.code == "last_owner"
    with pytest.raises(Conflict):
        member_remove(membership=owner, actor=members_world.customer_owner)
    # with a second Owner both work
    second = factories.member(members_world.customer, O)
    member_change_role(membership=owner, role=A, actor=second)
    with pytest.raises(Conflict):
        member_remove(membership=Membership.objects.get(user=second, organization=members_world.customer), actor=second)


def test_a_member_of_another_org_is_not_found(members_world):
    other = factories.OrganizationFactory()
    stranger = Membership.objects.get(user=factories.member(other, G), organization=other)
    with pytest.raises(NotFound):
        member_remove(membership=stranger, actor=members_world.customer_owner, context=_context(members_world))


def test_an_unknown_role_is_refused(members_world):
    with pytest.raises(InvalidInput):
        member_change_role(
            membership=membership(members_world, "customer_guest"), role="boss", actor=members_world.customer_owner
        )


def _context(world):
    from portal.tenancy import org_context_for_organization

    return org_context_for_organization(world.customer_owner, world.customer)
