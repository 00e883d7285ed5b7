"""Writes of organizations, memberships and the audit trail."""
from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.forms.models import model_to_dict

from portal.hooks import run_hooks

from .models import AuditEvent, Membership, Organization
from .roles import OrgKind


def audit_record(
    *,
    action: str,
    target,
    actor=None,
    organization: Organization | None = None,
    acting_organization: Organization | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail (ORG-10). The shared mechanism every app writes to.

    `organization` is whose trail it belongs to (default: the target's org where it has one);
    `acting_organization` the org the actor acted from (a partner or caretaker org).
    """
    if organization is None:
        organization = target if isinstance(target, Organization) else getattr(target, "organization", None)
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor_user,
        actor_email=getattr(actor_user, "email", "") or "",
        acting_organization=acting_organization,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        before=_jsonable(before),
        after=_jsonable(after),
    )


def _jsonable(data):
    if data is None:
        return None
    return {key: (value if isinstance(value, str | int | float | bool | type(None)) else str(value)) for key, value in data.items()}


def snapshot(instance, fields: list[str]) -> dict:
    """The listed fields of an instance, for `before`/`after` of an audit event."""
    return _jsonable(model_to_dict(instance, fields=fields))


@transaction.atomic
def organization_create(*, name: str, kind: str = OrgKind.CUSTOMER, actor=None, **fields) -> Organization:
    """Create an org with its members group (used for org-wide guardian permissions)."""
    organization = Organization(name=name.strip(), kind=kind, **fields)
    organization.full_clean(exclude=["members_group", "logo"])
    organization.save()
    organization.members_group = Group.objects.create(name=f"org:{organization.public_id}")
    organization.save(update_fields=["members_group"])
    audit_record(action="organization.created", target=organization, actor=actor, after={"name": name, "kind": kind})
    run_hooks("organization.created", organization=organization, actor=actor)
    return organization


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
