"""Project roles (PRJ-2): each role is a set of object permissions, declared in this one table.

The permissions are django-guardian object permissions on `projects.Project`, stored in the
direct-foreign-key tables `ProjectUserObjectPermission` / `ProjectGroupObjectPermission`. The UI,
the API, the restriction in `projects.selectors` and the tests all read this table.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectRole(models.TextChoices):
    ADMIN = "admin", _("Admin")
    DEVELOPER = "developer", _("Developer")
    VIEWER = "viewer", _("Viewer")
    # Technical caretakers (DLG-4): technical administration only.
    EXTERNAL = "external", _("External")


class ProjectAction(models.TextChoices):
    VIEW = "view", _("View")
    CHANGE = "change", _("Change")
    MANAGE_MEMBERS = "manage_members", _("Manage members")
    ORDER_SERVICES = "order_services", _("Order paid services")
    DELETE = "delete", _("Delete")


# action -> guardian permission codename on Project
PERMISSION_CODENAMES = {
    ProjectAction.VIEW: "view_project",
    ProjectAction.CHANGE: "change_project",
    ProjectAction.MANAGE_MEMBERS: "manage_project_members",
    ProjectAction.ORDER_SERVICES: "order_project_services",
    ProjectAction.DELETE: "delete_project",
}

V, C, MM, OS, D = (
    ProjectAction.VIEW,
    ProjectAction.CHANGE,
    ProjectAction.MANAGE_MEMBERS,
    ProjectAction.ORDER_SERVICES,
    ProjectAction.DELETE,
)

PROJECT_ROLE_ACTIONS: dict[str, frozenset[str]] = {
    ProjectRole.ADMIN: frozenset({V, C, MM, OS, D}),
    ProjectRole.DEVELOPER: frozenset({V, C}),
    ProjectRole.VIEWER: frozenset({V}),
    ProjectRole.EXTERNAL: frozenset({V, C}),
}

# An archived project is read-only: it can still be seen, and restored or deleted by whoever may
# delete it; everything else (changes, members, orders) waits until it is active again.
ACTIONS_ON_ARCHIVED_PROJECTS = frozenset({V, D})

# Inherited access (PRJ-4): the effective org role (see portal.tenancy) -> project role.
# Org Owners/Admins (and partner Owners/Admins, who act as Admin in linked customers) administer
# every project; assigned partner Members work on them like Developers, assigned partner Guests
# read them. Direct Members/Guests of an org inherit nothing: they need a role on the project.
INHERITED_PROJECT_ROLE_FOR_DIRECT_MEMBERS = {"owner": ProjectRole.ADMIN, "admin": ProjectRole.ADMIN}
INHERITED_PROJECT_ROLE_FOR_PARTNER_STAFF = {
    "admin": ProjectRole.ADMIN,
    "member": ProjectRole.DEVELOPER,
    "guest": ProjectRole.VIEWER,
}


def role_allows(role: str | None, action: str) -> bool:
    return action in PROJECT_ROLE_ACTIONS.get(role or "", frozenset())


def codenames_for_role(role: str) -> list[str]:
    return [PERMISSION_CODENAMES[action] for action in PROJECT_ROLE_ACTIONS[role]]


def inherited_project_role(org_role: str | None, *, via_partner: bool) -> str | None:
    """The project role an effective org role brings on every project of that org (PRJ-4)."""
    table = INHERITED_PROJECT_ROLE_FOR_PARTNER_STAFF if via_partner else INHERITED_PROJECT_ROLE_FOR_DIRECT_MEMBERS
    return table.get(org_role or "")


def effective_org_roles_inheriting(action: str, *, via_partner: bool) -> list[str]:
    """The effective org roles whose inherited project role allows `action` (the SQL form)."""
    table = INHERITED_PROJECT_ROLE_FOR_PARTNER_STAFF if via_partner else INHERITED_PROJECT_ROLE_FOR_DIRECT_MEMBERS
    return [org_role for org_role, project_role in table.items() if role_allows(project_role, action)]
