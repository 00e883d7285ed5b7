"""Delegations for tests, created through the services like the real thing."""

from __future__ import annotations

from organizations.roles import OrgRole
from portal.tenancy import org_context_for_organization
from tests import factories

from ..models import Delegation
from ..services import delegation_accept, delegation_release, delegation_release_accept, delegation_request


def manager(organization, role=OrgRole.OWNER, **fields):
    """An Owner (or Admin) of `organization`."""
    return factories.member(organization, role, **fields)


def first_manager(organization):
    user = organization.memberships.filter(role__in=[OrgRole.OWNER, OrgRole.ADMIN]).order_by("id").first()
    return user.user if user else manager(organization)


def context(user, organization):
    return org_context_for_organization(user, organization)


def request(project, caretaker, *, actor=None, message="", ends_at=None) -> Delegation:
    """A pending request by `caretaker` for `project` (DLG-1)."""
    actor = actor or first_manager(caretaker)
    return delegation_request(
        context=context(actor, caretaker), project_number=project.number, message=message, ends_at=ends_at, actor=actor
    )


def release(projects, email, *, actor=None, ends_at=None, message="") -> list[Delegation]:
    """A pending release of `projects` (one org) to `email` (DLG-2)."""
    projects = projects if isinstance(projects, list | tuple) else [projects]
    organization = projects[0].organization
    actor = actor or first_manager(organization)
    return delegation_release(
        context=context(actor, organization),
        project_numbers=[p.number for p in projects],
        email=email,
        ends_at=ends_at,
        message=message,
        actor=actor,
    )


def active(project, caretaker, *, ends_at=None, via="request") -> Delegation:
    """An active delegation of `project` to `caretaker`, started as a request or a release."""
    if via == "request":
        delegation = request(project, caretaker)
        decider = first_manager(project.organization)
        return delegation_accept(
            delegation=delegation, context=context(decider, project.organization), actor=decider, ends_at=ends_at
        )
    caretaker_user = first_manager(caretaker)
    released = release(project, caretaker_user.email, ends_at=ends_at)
    return delegation_release_accept(token=released[0].token, user=caretaker_user, caretaker=caretaker)[0]
