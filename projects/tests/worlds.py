"""Shared test worlds: one project and every way a person can (or cannot) reach it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from organizations.roles import OrgRole
from projects.models import Project, ProjectRoleGrant
from projects.roles import ProjectRole
from projects.services import project_grant_role
from tests import factories

# person -> the project role they end up with on the customer's project (None: no access at all)
EXPECTED_ROLE = {
    "stranger": None,
    "grant_admin": ProjectRole.ADMIN,
    "grant_developer": ProjectRole.DEVELOPER,
    "grant_viewer": ProjectRole.VIEWER,
    "grant_external": ProjectRole.EXTERNAL,
    "grant_expired": None,
    "org_owner": ProjectRole.ADMIN,
    "org_admin": ProjectRole.ADMIN,
    "org_member": None,
    "org_guest": None,
    "partner_owner": ProjectRole.ADMIN,
    "partner_admin": ProjectRole.ADMIN,
    "partner_member_assigned": ProjectRole.DEVELOPER,
    "partner_guest_assigned": ProjectRole.VIEWER,
    "partner_member_unassigned": None,
    "partner_guest_unassigned": None,
    "caretaker": ProjectRole.EXTERNAL,
    "other_partner_owner": None,
}


@dataclass
class World:
    partner: object
    customer: object
    project: Project
    other_project: Project
    caretaker_org: object
    people: dict = field(default_factory=dict)

    def person(self, name: str):
        """Create (once) the person called `name` in EXPECTED_ROLE."""
        if name not in self.people:
            self.people[name] = _make_person(self, name)
        return self.people[name]


def build_world() -> World:
    """A partner with a linked customer org; the customer's project; a caretaker org with a delegation."""
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Customer AG")
    factories.link(partner, customer)
    project = factories.project(customer, "Customer shop")
    other_project = factories.project(customer, "Customer other")
    caretaker_org = factories.OrganizationFactory(name="Agency")
    project_grant_role(
        project=project,
        organization=caretaker_org,
        role=ProjectRole.EXTERNAL,
        source=ProjectRoleGrant.Source.DELEGATION,
    )
    return World(
        partner=partner, customer=customer, project=project, other_project=other_project, caretaker_org=caretaker_org
    )


def _make_person(world: World, name: str):
    if name == "stranger":
        return factories.member(factories.OrganizationFactory(), OrgRole.OWNER)
    if name == "other_partner_owner":
        return factories.member(factories.PartnerFactory(), OrgRole.OWNER)
    if name.startswith("grant_"):
        user = factories.UserFactory()
        if name == "grant_expired":
            factories.grant(
                world.project, user, ProjectRole.DEVELOPER, expires_at=timezone.now() - timedelta(minutes=1)
            )
        else:
            factories.grant(world.project, user, name.removeprefix("grant_"))
        return user
    if name.startswith("org_"):
        return factories.member(world.customer, name.removeprefix("org_"))
    if name.startswith("partner_"):
        role = name.removeprefix("partner_").split("_")[0]
        user = factories.member(world.partner, role)
        if name.endswith("_assigned"):
            factories.assign(user, world.partner, world.customer)
        return user
    if name == "caretaker":
        return factories.member(world.caretaker_org, OrgRole.MEMBER)
    raise KeyError(name)
