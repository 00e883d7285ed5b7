"""Reads of projects: who may see or do what, always decided in SQL (PRJ-2, PRJ-3, PRJ-4).

`project_restrict(queryset, user=…, action=…)` is registered as the tenancy restriction of
`Project`, so every project list, search, count and API answer goes through it. It is one WHERE
clause of EXISTS subqueries over memberships, customer relations, staff assignments and the
guardian direct-FK permission tables: the query count never grows with projects or grants.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from organizations.models import CustomerRelation, Membership, Organization, StaffAssignment
from organizations.roles import OrgRole
from portal.tenancy import Scope, restriction

from .models import Project, ProjectGroupObjectPermission, ProjectRoleGrant, ProjectUserObjectPermission
from .roles import (
    INHERITED_PROJECT_ROLE_FOR_DIRECT_MEMBERS,
    INHERITED_PROJECT_ROLE_FOR_PARTNER_STAFF,
    PERMISSION_CODENAMES,
    ProjectAction,
    role_allows,
)


def _org_roles_inheriting(table: dict, action: str) -> list[str]:
    return [org_role for org_role, project_role in table.items() if role_allows(project_role, action)]


def project_access_q(user, action: str = ProjectAction.VIEW, *, at=None) -> Q:
    """Q over Project: `user` may perform `action` on the project now (or at `at`)."""
    at = at or timezone.now()
    codename = PERMISSION_CODENAMES[action]
    in_force = Q(grant__expires_at__isnull=True) | Q(grant__expires_at__gt=at)

    direct_roles = _org_roles_inheriting(INHERITED_PROJECT_ROLE_FOR_DIRECT_MEMBERS, action)
    inherited_direct = Membership.objects.filter(
        user=user, organization=OuterRef("organization"), role__in=direct_roles
    )
    partner_roles = _org_roles_inheriting(INHERITED_PROJECT_ROLE_FOR_PARTNER_STAFF, action)
    partner_wide = CustomerRelation.objects.filter(
        customer=OuterRef("organization"),
        status=CustomerRelation.Status.ACTIVE,
        partner__status=Organization.Status.ACTIVE,
        partner__memberships__user=user,
        partner__memberships__role__in=[r for r in partner_roles if r in (OrgRole.OWNER, OrgRole.ADMIN)],
    )
    partner_assigned = StaffAssignment.objects.filter(
        customer=OuterRef("organization"),
        membership__user=user,
        membership__role__in=[r for r in partner_roles if r in (OrgRole.MEMBER, OrgRole.GUEST)],
        membership__organization__status=Organization.Status.ACTIVE,
        membership__organization__customer_relations__customer=OuterRef("organization"),
        membership__organization__customer_relations__status=CustomerRelation.Status.ACTIVE,
    )
    user_permission = ProjectUserObjectPermission.objects.filter(
        in_force, content_object=OuterRef("pk"), user=user, permission__codename=codename
    )
    group_permission = ProjectGroupObjectPermission.objects.filter(
        in_force,
        content_object=OuterRef("pk"),
        group__user=user,
        permission__codename=codename,
        # caretaker orgs that were archived lose their delegated access at once
        grant__organization__status=Organization.Status.ACTIVE,
    )
    return Q(organization__status=Organization.Status.ACTIVE) & (
        Q(Exists(inherited_direct))
        | Q(Exists(partner_wide))
        | Q(Exists(partner_assigned))
        | Q(Exists(user_permission))
        | Q(Exists(group_permission))
    )


@restriction(Project)
def project_restrict(queryset: QuerySet, *, scope: Scope, action: str = ProjectAction.VIEW) -> QuerySet:
    """The tenancy restriction of projects: rows `scope.user` may `action`, in `scope`'s org if any."""
    if scope.context is not None:
        queryset = queryset.filter(organization=scope.context.organization)
    return queryset.filter(project_access_q(scope.user, action))


def project_list_for_user(*, user, action: str = ProjectAction.VIEW, organization=None) -> QuerySet:
    queryset = Project.objects.select_related("organization")
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    return project_restrict(queryset, scope=Scope(user=user), action=action)


def project_allowed_actions(*, user, project: Project) -> set[str]:
    """Every action `user` may perform on `project` (one query per action, five at most)."""
    return {
        action
        for action in ProjectAction.values
        if Project.objects.filter(pk=project.pk).filter(project_access_q(user, action)).exists()
    }


def project_user_may(*, user, project: Project, action: str) -> bool:
    return Project.objects.filter(pk=project.pk).filter(project_access_q(user, action)).exists()


def project_grants(*, project: Project) -> QuerySet[ProjectRoleGrant]:
    return project.grants.select_related("user", "organization").order_by("role", "id")
