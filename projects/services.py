"""Writes of projects and project role grants."""
from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.translation import gettext as _

from portal.errors import Conflict, InvalidInput

from .models import (
    PROJECT_NUMBER_OFFSET,
    Project,
    ProjectGroupObjectPermission,
    ProjectRoleGrant,
    ProjectUserObjectPermission,
)
from .roles import ProjectRole, codenames_for_role


@transaction.atomic
def project_create(*, organization, name: str, description: str = "", created_by=None) -> Project:
    """Create a project with the next unique number `p-<digits>` (PRJ-1).

    The number derives from the primary key inside the same transaction, so two concurrent
    creations can never share a number.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Please enter a project name."), field="name")
    project = Project.objects.create(
        organization=organization, name=name, description=description, created_by=created_by
    )
    project.number = f"p-{PROJECT_NUMBER_OFFSET + project.pk}"
    Project.objects.filter(pk=project.pk).update(number=project.number)
    return project


def _permissions_for_role(role: str) -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label="projects", codename__in=codenames_for_role(role))
    )


def _write_permission_rows(grant: ProjectRoleGrant) -> None:
    """(Re)derive the guardian permission rows of a grant from the role table."""
    grant.user_permissions.all().delete()
    grant.group_permissions.all().delete()
    permissions = _permissions_for_role(grant.role)
    if grant.user_id:
        ProjectUserObjectPermission.objects.bulk_create(
            ProjectUserObjectPermission(grant=grant, user_id=grant.user_id, permission=p, content_object=grant.project)
            for p in permissions
        )
    else:
        group = grant.organization.members_group
        if group is None:
            raise Conflict(_("This organization cannot hold project roles."), code="no_members_group")
        ProjectGroupObjectPermission.objects.bulk_create(
            ProjectGroupObjectPermission(grant=grant, group=group, permission=p, content_object=grant.project)
            for p in permissions
        )


@transaction.atomic
def project_grant_role(
    *, project: Project, role: str, user=None, organization=None, expires_at=None, granted_by=None,
    source: str = ProjectRoleGrant.Source.DIRECT,
) -> ProjectRoleGrant:
    """Give a user (or every member of an org) a role on a project, replacing an earlier one."""
    if role not in ProjectRole.values:
        raise InvalidInput(_("Unknown project role."), field="role")
    lookup = {"user": user} if user is not None else {"organization": organization}
    grant, _created = ProjectRoleGrant.objects.update_or_create(
        project=project,
        **lookup,
        defaults={"role": role, "expires_at": expires_at, "granted_by": granted_by, "source": source},
    )
    _write_permission_rows(grant)
    return grant


@transaction.atomic
def project_revoke_grant(*, grant: ProjectRoleGrant) -> None:
    grant.delete()  # cascades to the guardian permission rows
