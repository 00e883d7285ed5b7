"""Every way a person can (or cannot) reach a project, on the shared world (tests/world.py): the
customer's project `world.delegated_project`, released to the agency, is "the project" here;
`world.project` is the customer's other project."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from organizations.models import User
from projects.roles import ProjectRole
from tests import factories
from tests.world import World

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

# person -> the world's account that is that person
ACCOUNT = {
    "stranger": "direct_owner",  # the Owner of an org with no tie to the customer
    "org_owner": "customer_owner",
    "org_admin": "customer_admin",
    "org_member": "customer_member",
    "org_guest": "customer_guest",
    "partner_owner": "partner_owner",
    "partner_admin": "partner_admin",
    "partner_member_assigned": "partner_member_assigned",
    "partner_guest_assigned": "partner_guest_assigned",
    "partner_member_unassigned": "partner_member",
    "partner_guest_unassigned": "partner_guest",
    "caretaker": "agency_member",
    "other_partner_owner": "foreign_owner",
}


def person_of(world: World, name: str) -> User:
    """The person called `name` in EXPECTED_ROLE: a world account, or (once) a user with only a
    direct grant on the project."""
    if name in ACCOUNT:
        return getattr(world, ACCOUNT[name])
    if not name.startswith("grant_"):
        raise KeyError(name)
    people = world._people
    if name not in people:
        user = factories.UserFactory()
        if name == "grant_expired":
            factories.grant(
                world.delegated_project, user, ProjectRole.DEVELOPER, expires_at=timezone.now() - timedelta(minutes=1)
            )
        else:
            factories.grant(world.delegated_project, user, name.removeprefix("grant_"))
        people[name] = user
    return people[name]
