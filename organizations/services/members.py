"""Memberships and roles of an organization (ORG-5): add, change and remove members.

Who may do what is read from the role table (`organizations.roles`): `members.manage` to change
roles and remove members, `members.manage_owners` for anything touching an Owner; nobody grants a
role above their own (`can_grant_role`) and the last Owner stays (the org row is locked).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from portal.audit import audit_record
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from portal.tenancy import OrgContext, org_context_for_organization

from ..models import Membership, Organization
from ..roles import OrgRole, can_grant_role, can_manage_member, grantable_roles


@transaction.atomic
def membership_set(*, organization: Organization, user, role: str, actor=None) -> Membership:
    """Add `user` to the org with `role`, or change the role; keeps the members group in sync."""
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    before = None if created else {"role": membership.role}
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if organization.members_group_id:
        user.groups.add(organization.members_group_id)
    audit_record(
        action="membership.added" if created else "membership.changed",
        target=membership,
        actor=actor,
        organization=organization,
        before=before,
        after={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor=None) -> None:
    organization = membership.organization
    if organization.members_group_id:
        membership.user.groups.remove(organization.members_group_id)
    audit_record(
        action="membership.removed",
        target=membership,
        actor=actor,
        organization=organization,
        before={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


def acting_role(organization: Organization, actor, context: OrgContext | None = None):
    """(role, context) of `actor` in `organization`.

    `actor=None` is the system (onboarding code, commands) and support staff outside the org act
    from the Django admin (ORG-9): both count as Owner, without an org context.
    """
    if context is not None:
        if context.organization.pk != organization.pk:
            raise NotFound(gettext("Not found."))
        return context.role, context
    if actor is None:
        return OrgRole.OWNER, None
    try:
        context = org_context_for_organization(actor, organization)
    except NotFound:
        if getattr(actor, "is_staff", False) and getattr(actor, "is_active", False):
            return OrgRole.OWNER, None
        raise
    return context.role, context


def require_in_context(context: OrgContext | None, capability: str) -> None:
    if context is not None:
        context.require(capability)


def _has_owner(organization: Organization) -> bool:
    return Membership.objects.filter(organization=organization, role=OrgRole.OWNER).exists()


def may_set_initial_password(context: OrgContext | None) -> bool:
    """ORG-5: partner staff (in their own org or acting in a linked customer) and support/system."""
    return context is None or context.acting_as_partner or context.organization.is_partner


def roles_grantable_in(context: OrgContext) -> list[str]:
    """The roles the user of `context` may invite with or give to members."""
    return grantable_roles(context.role, organization_has_owner=_has_owner(context.organization))


def require_may_grant(context: OrgContext | None, role: str, actor_role: str, organization: Organization) -> None:
    if role not in OrgRole.values:
        raise InvalidInput(gettext("Choose a valid role."), field="role")
    if not can_grant_role(actor_role, role, organization_has_owner=_has_owner(organization)):
        if role == OrgRole.OWNER:
            raise PermissionDenied(
                gettext("Only Owners can make someone an Owner."), code="above_own_role", field="role"
            )
        raise PermissionDenied(gettext("You cannot grant a role above your own."), code="above_own_role", field="role")


def _lock_owners(organization: Organization) -> int:
    """Lock the org row (serialising member changes of the org) and count its Owners."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    return Membership.objects.filter(organization=organization, role=OrgRole.OWNER).count()


def _require_actor_unchanged(context: OrgContext | None) -> None:
    """Inside the org lock: the actor's own membership still holds the role checked before the lock
    (an Owner removed or demoted a moment ago by another Owner no longer acts)."""
    if context is None or context.membership is None or context.acting_as_partner:
        return
    if not Membership.objects.filter(pk=context.membership.pk, role=context.membership.role).exists():
        raise Conflict(
            gettext("Your own role in this organization changed meanwhile. Reload the page and try again."),
            code="actor_changed",
        )


def _require_may_manage(context: OrgContext | None, actor_role: str, membership: Membership) -> None:
    require_in_context(context, "members.manage")
    if membership.role == OrgRole.OWNER:
        require_in_context(context, "members.manage_owners")
    if not can_manage_member(actor_role, membership.role):
        raise PermissionDenied(gettext("Only Owners can change or remove an Owner."), code="above_own_role")


def _last_owner_error() -> Conflict:
    return Conflict(
        gettext("An organization needs at least one Owner. Make someone else Owner first."), code="last_owner"
    )


def member_change_role(*, membership: Membership, role: str, actor, context: OrgContext | None = None) -> Membership:
    """Give a member another role (ORG-5). Caller: `members.manage`; Owners for anything Owner.

    Nobody grants above their own role; the last Owner cannot be demoted (409), also when two
    Owners demote each other at the same moment (the org row is locked).
    """
    organization = membership.organization
    actor_role, context = acting_role(organization, actor, context)
    _require_may_manage(context, actor_role, membership)
    require_may_grant(context, role, actor_role, organization)
    with transaction.atomic():
        owners = _lock_owners(organization)
        _require_actor_unchanged(context)
        current = Membership.objects.filter(pk=membership.pk).first()
        if current is None:
            raise NotFound(gettext("Not found."))
        if current.role == role:
            return current
        if current.role == OrgRole.OWNER and owners <= 1:
            raise _last_owner_error()
        return membership_set(organization=organization, user=current.user, role=role, actor=actor)


def member_remove(*, membership: Membership, actor, context: OrgContext | None = None) -> None:
    """Remove a member from the org (ORG-5). Caller: `members.manage`; Owners to remove Owners.

    The last Owner cannot be removed (409). The person's account stays.
    """
    organization = membership.organization
    actor_role, context = acting_role(organization, actor, context)
    _require_may_manage(context, actor_role, membership)
    with transaction.atomic():
        owners = _lock_owners(organization)
        _require_actor_unchanged(context)
        current = Membership.objects.select_related("user", "organization").filter(pk=membership.pk).first()
        if current is None:
            raise NotFound(gettext("Not found."))
        if current.role == OrgRole.OWNER and owners <= 1:
            raise _last_owner_error()
        membership_remove(membership=current, actor=actor)
