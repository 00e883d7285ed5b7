"""Reads of projects: who may see or do what, always decided in SQL (PRJ-2, PRJ-3, PRJ-4).

`project_restrict(queryset, scope=…, action=…)` is registered as the tenancy restriction of
`Project`, so every project list, search, count and API answer goes through it. It is one WHERE
clause of EXISTS subqueries over memberships, customer relations, staff assignments and the
guardian direct-FK permission tables: the query count never grows with projects or grants.

A user reaches a project in exactly these ways:
- inherited (PRJ-4): Owner/Admin of the project's org → Admin; partner staff of the org's active
  reseller → Owner/Admin: Admin, assigned Members: Developer, assigned Guests: Viewer (ORG-11);
- a role granted to the user on the project (PRJ-2, PRJ-3), honoured until its end date;
- a role granted to an org the user is a member of (caretaker delegations, DLG-4).
Archived orgs (ORG-7) end all of it at once; an archived project allows only what
`ACTIONS_ON_ARCHIVED_PROJECTS` lists.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth.models import Permission
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import CustomerRelation, Membership, Organization, User
from organizations.roles import PARTNER_ROLE_IN_CUSTOMER, PARTNER_ROLES_NEEDING_ASSIGNMENT
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from portal.statements import STAND_IN_ID, STAND_IN_MOMENT, CompiledQuery, CompiledStatement, stand_in_ids
from portal.tenancy import (
    LoadedReach,
    MembershipRow,
    OrgContext,
    Scope,
    memberships_of,
    org_context_for_organization,
    reach_loaded,
    reach_q,
    reachable_organizations_q,
    restrict,
    restriction,
)

from .models import Project, ProjectGroupObjectPermission, ProjectRoleGrant, ProjectUserObjectPermission
from .roles import (
    ACTIONS_ON_ARCHIVED_PROJECTS,
    PERMISSION_CODENAMES,
    ProjectAction,
    effective_org_roles_inheriting,
    inherited_project_role,
    role_allows,
)


def _in_force(prefix: str, at) -> Q:
    return Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": at})


def _granted_q(user, action: str, at) -> Q:
    """A role on the project itself: the user's own grant or one of an org the user is a member of."""
    project_ref = OuterRef("pk")
    codename = PERMISSION_CODENAMES[action]
    user_permission = ProjectUserObjectPermission.objects.filter(
        _in_force("grant__", at), content_object=project_ref, user=user, permission__codename=codename
    )
    group_permission = ProjectGroupObjectPermission.objects.filter(
        _in_force("grant__", at),
        content_object=project_ref,
        group__user=user,
        permission__codename=codename,
        # The members group mirrors the memberships; checking the membership too means a group
        # left behind by a bug can never keep a caretaker's access alive.
        grant__organization__memberships__user=user,
        # caretaker orgs that were archived lose their delegated access at once
        grant__organization__status=Organization.Status.ACTIVE,
    )
    return Q(Exists(user_permission)) | Q(Exists(group_permission))


def _inherited_q(user, action: str) -> Q:
    """The effective org roles (the tenancy reach rule, `portal.tenancy.reach_q`) whose inherited
    project role allows `action` (PRJ-4)."""
    direct_roles = effective_org_roles_inheriting(action, via_partner=False)
    partner_roles = effective_org_roles_inheriting(action, via_partner=True)
    return reach_q(user, prefix="organization__", roles=direct_roles, via_partner=False) | reach_q(
        user, prefix="organization__", roles=partner_roles, direct=False
    )


def _access_q(user, action: str, at) -> Q:
    """The roles that allow `action`, ignoring the project's own status (see project_access_q)."""
    return _inherited_q(user, action) | _granted_q(user, action, at)


def _status_q(action: str, *, prefix: str = "") -> Q:
    return Q() if action in ACTIONS_ON_ARCHIVED_PROJECTS else Q(**{f"{prefix}status": Project.Status.ACTIVE})


def project_access_q(user, action: str = ProjectAction.VIEW, *, at=None) -> Q:
    """Q over Project: `user` may perform `action` on the project now (or at `at`).

    One WHERE clause of EXISTS subqueries; use it with `.filter()` or as a boolean annotation.
    """
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    at = at or timezone.now()
    return Q(organization__status=Organization.Status.ACTIVE) & _access_q(user, action, at) & _status_q(action)


def _granted_parts(user, action: str, at, memberships: list[MembershipRow]) -> list[QuerySet]:
    """The permission rows granting `action` to `user` (own, and through their orgs' grants), by
    the guardian tables' user and group indexes. The orgs' grants count only for active orgs the
    user is a member of (as `_granted_q`), known from the loaded memberships: no join through them."""
    # The permission as a scalar subquery (an InitPlan), not a join on its codename: the planner
    # then estimates the user's rows from the (user, permission) statistics instead of 1/number of
    # permissions (issue 13: 547 estimated, 100,000 real rows for the user with 100,000 grants).
    permission = Subquery(
        Permission.objects.filter(
            codename=PERMISSION_CODENAMES[action], content_type__app_label="projects", content_type__model="project"
        ).values("pk")[:1]
    )
    own = ProjectUserObjectPermission.objects.filter(_in_force("grant__", at), user=user, permission_id=permission)
    parts = [own.order_by()]
    member_orgs = [m.organization_id for m in memberships if m.organization_active]
    if member_orgs:
        groups = User.groups.through.objects.filter(user=user).values("group_id")
        through_orgs = ProjectGroupObjectPermission.objects.filter(
            _in_force("grant__", at),
            group_id__in=groups,
            permission_id=permission,
            # see _granted_q: the membership, not only the mirrored group, and an active caretaker org
            grant__organization_id__in=member_orgs,
        )
        parts.append(through_orgs.order_by())
    return parts


def _reach_for_action(memberships: list[MembershipRow], action: str) -> list[LoadedReach]:
    """The orgs whose projects `action` is inherited in: directly (members) and as partner staff."""
    reaches = []
    for via_partner in (False, True):
        roles = effective_org_roles_inheriting(action, via_partner=via_partner)
        if roles:
            reaches.append(reach_loaded(memberships, roles=roles, direct=not via_partner, via_partner=via_partner))
    return reaches


@dataclass(frozen=True)
class _AccessPaths:
    """How `user` reaches projects for an action, from the loaded memberships: the orgs reached
    directly (literal ids), the customers reached as partner staff (one-table subqueries of
    customer ids), the permission rows granting it (`_granted_parts`), and whether a partner
    Owner/Admin path makes the reach every project of thousands of customers (`wide`)."""

    direct_ids: list[int]
    sources: list[QuerySet]
    granted: list[QuerySet]
    wide: bool
    # the group grants may name a project twice when the user is in several orgs holding one
    granted_unique: bool
    memberships: list[MembershipRow]


def _access_paths(user, action: str, at, memberships: list[MembershipRow] | None = None) -> _AccessPaths:
    memberships = memberships_of(user) if memberships is None else memberships
    reaches = _reach_for_action(memberships, action)
    member_orgs = [m for m in memberships if m.organization_active]
    return _AccessPaths(
        direct_ids=[pk for reach in reaches for pk in reach.direct_ids],
        sources=[source for reach in reaches for source in reach.partner_sources],
        granted=_granted_parts(user, action, at, memberships),
        wide=any(reach.wide for reach in reaches),
        granted_unique=len(member_orgs) <= 1,
        memberships=memberships,
    )


def accessible_projects_q(
    user,
    action: str = ProjectAction.VIEW,
    *,
    at=None,
    few_rows: bool = False,
    large: bool = False,
    paths: _AccessPaths | None = None,
) -> Q:
    """The indexed form of `_access_q` over Project: the projects `user` reaches for `action` by
    the projects' org (orgs the user's role inherits through) or by the user's own and their
    orgs' grants (the permission tables' user and group indexes). Org and project status are left
    to the caller (see `project_restrict`).

    The user's memberships are read first (one small query), so the access paths become literal
    keys and one-table subqueries: cheap to plan, and estimated from the real keys (issue 13). The
    shape follows the reach:
    - partner Owners/Admins (every project of up to thousands of customers): an OR of hashed key
      sets, which lets a sorted page stop after its rows;
    - `large` (the caller counted more than `portal.pagination.COUNT_CAP` projects: a user with
      100,000 grants, an agency caring for 10,000 projects): the orgs as key sets and the grants
      as EXISTS per row by the permission indexes – a sorted page walks the name index and tests
      the rows it meets, instead of collecting and sorting the whole reach;
    - `few_rows` (the caller filters to a row or two by an index, one project by number):
      correlated EXISTS throughout, tested for those rows only;
    - everyone else: one UNION of project ids (a few rows by index, never a scan of all projects).
    """
    at = at or timezone.now()
    paths = paths or _access_paths(user, action, at)
    granted = [part.values("content_object_id") for part in paths.granted]
    direct_ids, sources = paths.direct_ids, paths.sources
    if few_rows or large:
        q = Q(organization_id__in=direct_ids) if direct_ids else Q()
        for source in sources:
            if few_rows:
                q |= Q(Exists(source.filter(customer_id=OuterRef("organization_id"))))
            else:
                q |= Q(organization_id__in=source)
        for part in granted:
            row = part.filter(content_object_id=OuterRef("pk"))
            if large:
                # A second, non-equality reference to the row keeps the test per row: PostgreSQL
                # cannot turn it into a hash of the whole reach, which it would (it estimates one
                # row for a caretaker org's grants and then hashes 10,000 to show 25).
                row = row.filter(content_object_id__gte=OuterRef("pk"))
            q |= Q(Exists(row))
        return q
    if paths.wide:
        q = Q(organization_id__in=direct_ids) if direct_ids else Q()
        for source in sources:
            q |= Q(organization_id__in=source)
        for part in granted:
            q |= Q(pk__in=part)
        return q
    parts = []
    if direct_ids:
        parts.append(Project.objects.filter(organization_id__in=direct_ids).order_by().values("pk"))
    parts.extend(Project.objects.filter(organization_id__in=source).order_by().values("pk") for source in sources)
    parts.extend(granted)
    ids = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return Q(pk__in=ids)


def _accessible_filter(
    queryset: QuerySet,
    user,
    action: str,
    *,
    few_rows: bool = False,
    large: bool = False,
    paths: _AccessPaths | None = None,
) -> QuerySet:
    """`project_access_q` as a filter by `accessible_projects_q` (lists: no scan of all projects)."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    return (
        queryset.filter(organization__status=Organization.Status.ACTIVE)
        .filter(accessible_projects_q(user, action, few_rows=few_rows, large=large, paths=paths))
        .filter(_status_q(action))
    )


def accessible_projects_count(
    queryset: QuerySet, user, action: str = ProjectAction.VIEW, *, cap: int, paths: _AccessPaths | None = None
) -> int:
    """The number of projects of `queryset` (a filtered `Project` queryset, not yet restricted)
    that `user` may `action` across orgs – exact up to `cap`, else `cap` + 1 – read from the
    user's side: each access path streams at most `cap` + 1 rows from its index (the permission
    rows of 100,000 grants, the projects of the reached orgs), so the cost is that of `cap` rows
    whatever the reach (issue 13: the COUNT over 100,000 granted projects took 300 ms). The ids
    are merged in Python: a project reached twice counts once."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return _count_by_paths(queryset, user, action, cap=cap, paths=paths).count


@dataclass(frozen=True)
class _PathCount:
    count: int
    # one grant path alone held more than the cap
    grants_over_cap: bool = False
    # the active orgs the user's role reaches, when they were read as keys (see _projects_of_reached_orgs)
    reached_org_ids: list[int] | None = None
    # per grant path read whole (not over the cap), by its index in the paths: its projects' orgs
    grant_org_ids: dict[int, set[int]] | None = None


# Up to this many reached orgs, the count reads the user's grants before the orgs' projects.
FEW_ORGS = 10


def _count_by_paths(queryset: QuerySet, user, action: str, *, cap: int, paths: _AccessPaths | None) -> _PathCount:
    """`accessible_projects_count`, and what was learnt on the way (`_PathCount`)."""
    at = timezone.now()
    paths = paths or _access_paths(user, action, at)
    return _count_reads(_OrmReads(_Env(paths, queryset, user, at)), action, cap)


@dataclass(frozen=True)
class _Env:
    """What the count's and the list's statements are built from: the user's access paths, the
    filtered projects (not restricted), the user and the moment. The user's real ones
    (`_OrmReads`), or stand-ins of the same shape (`_CompiledReads`)."""

    paths: _AccessPaths
    base: QuerySet
    user: Any
    at: datetime.datetime


class _OrmReads:
    """Each statement built by the ORM for the user's own values and run (the form every other
    reader of the access paths uses, e.g. `accessible_projects_count`)."""

    def __init__(self, env: _Env):
        self.env = env

    def rows(self, key: tuple, build: Callable[..., QuerySet], **lists: list[int]) -> list[tuple]:
        """The rows of `build(env, **lists)` (sliced `values()` or `values_list()`) as tuples;
        `key`: what the statement is (`_CompiledReads` compiles one per key)."""
        return [tuple(row.values()) if isinstance(row, dict) else row for row in build(self.env, **lists)]

    def objects(self, key: tuple, build: Callable[..., QuerySet], **lists: list[int]) -> list:
        """The model instances of `build(env, **lists)` (an ordered, unsliced QuerySet)."""
        return list(build(self.env, **lists))

    def real(self, ids: list[int]) -> list[int]:
        return ids


def _count_reads(reads: _OrmReads, action: str, cap: int) -> _PathCount:
    """`_count_by_paths` by `reads` (the ORM's statements for the user, or the same compiled once)."""
    paths = reads.env.paths
    by_orgs, reached = _projects_of_reached_orgs(reads, action, cap)

    def granted_rows(index: int, with_org: bool = True) -> list[tuple]:
        def build(env: _Env) -> QuerySet:
            rows = env.paths.granted[index]
            if env.base.query.where:  # the list's own filters (status, org, search) on the projects
                visible = _counted(env, action).filter(organization__status=Organization.Status.ACTIVE)
                # from the permission rows to their project by primary key: a join that streams in index order
                rows = rows.filter(content_object_id__in=visible.values("pk"))
            else:
                # the same rule as joins: each row's project and org read once, not again for the
                # IN (issue 13: an agency's 1,001 caretaker rows in 3.7 ms instead of 6.0 ms)
                rows = rows.filter(
                    _status_q(action, prefix="content_object__"),
                    content_object__organization__status=Organization.Status.ACTIVE,
                )
            rows = rows.order_by()
            # with the project's org: the org filter needs the grants' orgs (not read a second time)
            rows = rows.values_list("content_object_id", *(["content_object__organization_id"] if with_org else []))
            # the user's own rows are unique per project; the orgs' grants are when the user is in one org
            return (rows if index == 0 or env.paths.granted_unique else rows.distinct())[: cap + 1]

        return reads.rows(("granted", action, cap, index, with_org), build)

    # (the grant path's index, None for the orgs' projects; its rows, read when asked): the orgs'
    # projects first where they are many orgs (a partner's customers); else the grants first, their
    # orgs' (a caretaker agency's) before their own – the path likely over the cap answers alone
    granted = [(index, partial(granted_rows, index)) for index in range(len(paths.granted))]
    by_orgs_stream = [] if by_orgs is None else [(None, lambda: [(pk, None) for (pk,) in by_orgs()])]
    many_orgs = reached is None or len(reached) > FEW_ORGS
    streams = by_orgs_stream + granted if many_orgs else [*reversed(granted), *by_orgs_stream]
    if len(streams) == 1 and streams[0][0] is not None:
        # the only path (a user with grants only): the ids alone, none to merge
        count = len(granted_rows(0, with_org=False))
        return _PathCount(count, count > cap, reached)
    # each stream is read for at most `cap` + 1 rows; once more than `cap` are found the rest are
    # neither built nor read (issue 13: a partner Owner's 1,001 projects answer the count, their
    # grants need not be read too). The number of queries never grows with the reach.
    ids: set[int] = set()
    grants_over_cap = False
    grant_orgs: dict[int, set[int]] = {}
    for grant_path, rows in streams:
        if len(ids) > cap:
            break
        found = rows()
        ids.update(pk for pk, _org in found)
        if grant_path is not None:
            grants_over_cap = grants_over_cap or len(found) > cap
            if len(found) <= min(cap, FILTER_GRANT_ROWS):  # whole, as the org filter would read it
                grant_orgs[grant_path] = {org for _pk, org in found}
    return _PathCount(min(len(ids), cap + 1), grants_over_cap, reached, grant_orgs)


def _counted(env: _Env, action: str) -> QuerySet:
    return env.base.filter(_status_q(action)).order_by()


def _projects_of_reached_orgs(
    reads: _OrmReads, action: str, cap: int
) -> tuple[Callable[[], list[tuple]] | None, list[int] | None]:
    """The ids of the listed projects in the active orgs the user's role reaches (members and
    partner staff; None when there are none), read when called, and those orgs' ids when they
    were read as keys.

    One stream, the orgs first and their projects by the org index – never the org of each
    project tested (issue 13: 1,000 org lookups per count). A partner's customers stay a subquery
    (a merge over both indexes); a staff member's assigned customers are read first (at most
    `cap` + 1), so the planner sees the real keys instead of hashing every project."""
    paths = reads.env.paths
    active = {m.organization_id for m in paths.memberships if m.organization_active}
    org_ids = [pk for pk in paths.direct_ids if pk in active]
    subqueries = []

    def active_customers(env: _Env, index: int) -> QuerySet:
        # from the source's rows (a staff member's assignments) to their org by primary key: the
        # orgs' IN (…) form hashed every org of the partner to find 100 (issue 13: 7 ms)
        source = env.paths.sources[index]
        return source.filter(customer__status=Organization.Status.ACTIVE).values_list("customer_id")[: cap + 1]

    for index in range(len(paths.sources)):
        customers = partial(active_customers, index=index)
        read = [] if paths.wide else [pk for (pk,) in reads.rows(("customers", cap, index), customers)]
        if paths.wide or len(read) > cap:
            subqueries.append(index)
        else:
            org_ids.extend(read)
    if subqueries:

        def of_orgs_and_sources(env: _Env, orgs: list[int]) -> QuerySet:
            reached = Q(pk__in=orgs) if orgs else Q(pk__in=[])
            for index in subqueries:
                reached |= Q(pk__in=env.paths.sources[index])
            organizations = Organization.objects.filter(status=Organization.Status.ACTIVE).order_by().filter(reached)
            listed = _counted(env, action).filter(organization_id__in=organizations.values("pk"))
            return listed.values_list("pk")[: cap + 1]

        key = ("projects of orgs and sources", action, cap, tuple(subqueries))
        return partial(reads.rows, key, of_orgs_and_sources, orgs=org_ids), None
    if org_ids:

        def of_orgs(env: _Env, orgs: list[int]) -> QuerySet:
            return _counted(env, action).filter(organization_id__in=orgs).values_list("pk")[: cap + 1]

        return partial(reads.rows, ("projects of orgs", action, cap), of_orgs, orgs=org_ids), reads.real(org_ids)
    return None, []


def project_caretaker_q(user, *, at=None, memberships: list[MembershipRow] | None = None):
    """EXISTS: `user` reaches the project through a caretaker delegation of one of their orgs.

    `memberships`: the user's loaded memberships (`memberships_of`), if the caller has them: the
    active orgs are then literal keys (no joins to build and plan), and a user in no active org
    gets a constant False instead of a subquery per row."""
    at = at or timezone.now()
    if memberships is not None:
        active_orgs = sorted({m.organization_id for m in memberships if m.organization_active})
        if not active_orgs:
            return Value(False, output_field=BooleanField())
        of_orgs = Q(organization_id__in=active_orgs)
    else:
        of_orgs = Q(organization__status=Organization.Status.ACTIVE, organization__memberships__user=user)
    return Exists(
        ProjectRoleGrant.objects.filter(
            _in_force("", at),
            of_orgs,
            project=OuterRef("pk"),
            # tested per listed row, never as a hash of all of an agency's 10,000 caretaker grants
            # (see accessible_projects_q: a non-equality reference cannot be hashed)
            project_id__gte=OuterRef("pk"),
            source=ProjectRoleGrant.Source.DELEGATION,
        )
    )


@restriction(Project)
def project_restrict(queryset: QuerySet, *, scope: Scope, action: str = ProjectAction.VIEW) -> QuerySet:
    """The tenancy restriction of projects: rows `scope.user` may `action`, in `scope`'s org if any.

    Inside an org the effective role is already resolved (`scope.context.role`): the inherited
    part is decided in Python, and only the project's own grants remain for SQL.
    """
    context = scope.context
    if context is None:
        return _accessible_filter(queryset, scope.user, action)
    if context.organization.status != Organization.Status.ACTIVE:
        return queryset.none()
    queryset = queryset.filter(organization=context.organization).filter(_status_q(action))
    inherited = inherited_project_role(context.role, via_partner=context.acting_as_partner)
    if role_allows(inherited, action):
        return queryset
    return queryset.filter(_granted_q(scope.user, action, timezone.now()))


@restriction(ProjectRoleGrant)
def project_grant_restrict(queryset: QuerySet, *, scope: Scope, action: str = ProjectAction.VIEW) -> QuerySet:
    """Role grants are listed to those who may manage the project's members (and nobody else)."""
    # grants are read per project (the members page and API): the form for few rows
    projects = _accessible_filter(Project.objects.all(), scope.user, ProjectAction.MANAGE_MEMBERS, few_rows=True)
    if scope.context is not None:
        projects = projects.filter(organization=scope.context.organization)
    return queryset.filter(project__in=projects)


def _role_annotations(user, at, *, org_roles: bool = True) -> dict:
    """What decides every action on one project, as three roles in the same query (project
    detail): the effective org role – a direct membership, else the partner staff's role through
    the org's active reseller (ORG-11, as `org_context_for_organization`) – and the roles granted
    to the user's orgs (caretakers); the user's own grant is `own_role`. `allowed_actions_of`
    reads the role table in Python: a handful of subqueries to plan instead of an OR of EXISTS
    per action (issue 13: 30 ms of planning)."""
    caretaker_grant = ProjectRoleGrant.objects.filter(
        _in_force("", at),
        project=OuterRef("pk"),
        organization__status=Organization.Status.ACTIVE,
        organization__memberships__user=user,
        # as `_granted_q`: the mirrored members group too
        group_permissions__group__user=user,
    )
    caretaker_role = {"caretaker_role": Subquery(caretaker_grant.order_by("role").values("role")[:1])}
    if not org_roles:  # the caller takes them from the org context (project_for_user_with_context)
        return caretaker_role
    org = OuterRef("organization_id")
    wide = [r for r in PARTNER_ROLE_IN_CUSTOMER if r not in PARTNER_ROLES_NEEDING_ASSIGNMENT]
    partner_membership = Membership.objects.filter(
        Q(role__in=wide) | Q(role__in=list(PARTNER_ROLES_NEEDING_ASSIGNMENT), assignments__customer=org),
        user=user,
        organization__status=Organization.Status.ACTIVE,
        organization__customer_relations__customer=org,
        organization__customer_relations__status=CustomerRelation.Status.ACTIVE,
    )
    return {
        "direct_org_role": Subquery(Membership.objects.filter(user=user, organization=org).values("role")[:1]),
        "partner_org_role": Subquery(partner_membership.values("role")[:1]),
        **caretaker_role,
    }


def project_annotate_for_user(
    queryset: QuerySet,
    *,
    user,
    actions: bool = False,
    at=None,
    org_roles: bool = True,
    memberships: list[MembershipRow] | None = None,
) -> QuerySet:
    """Add, in the same query: `caretaker` (reached through a delegation) and `own_role` /
    `own_role_expires_at` (the user's own role grant in force); with `actions=True` also the roles
    `allowed_actions_of` decides every action from (one page of a project; lists leave them out).
    `memberships`: the user's loaded memberships, if the caller has them (see `project_caretaker_q`)."""
    at = at or timezone.now()
    own_grant = ProjectRoleGrant.objects.filter(_in_force("", at), project=OuterRef("pk"), user=user)
    annotations = {
        "caretaker": project_caretaker_q(user, at=at, memberships=memberships),
        "own_role": Subquery(own_grant.values("role")[:1]),
        "own_role_expires_at": Subquery(own_grant.values("expires_at")[:1]),
    }
    if actions:
        annotations.update(_role_annotations(user, at, org_roles=org_roles))
    return queryset.annotate(**annotations)


@dataclass(frozen=True)
class ProjectFilters:
    """What a project list may be narrowed by – the same for the pages and the API."""

    search: str = ""
    # an org's public identifier: only for the list across orgs (inside an org the URL names it)
    organization: str = ""
    status: str = ""

    @classmethod
    def from_params(cls, params, *, search_param: str = "search") -> ProjectFilters:
        status = (params.get("status") or "").strip()
        if status and status not in Project.Status.values:
            raise InvalidInput(_("Unknown status."), field="status")
        return cls(
            search=(params.get(search_param) or "").strip()[:SEARCH_MAX_LENGTH],
            organization=(params.get("organization") or "").strip()[:20].upper(),
            status=status,
        )


SEARCH_MAX_LENGTH = 100


def _filter_organization(*, scope: Scope, public_id: str) -> Organization:
    """The org a cross-org list is narrowed to: one the user reaches, or whose projects the user
    sees (a caretaker's). Anything else is NotFound – the same answer as `/o/<org>/…`."""
    visible = restrict(Project.objects.all(), Scope(user=scope.user), ProjectAction.VIEW)
    organization = (
        Organization.objects.active()
        .filter(public_id=public_id)
        .filter(reachable_organizations_q(scope.user) | Q(pk__in=visible.values("organization")))
        .first()
    )
    if organization is None:
        raise NotFound(_("Not found."))
    return organization


def _filtered_projects(*, scope: Scope, filters: ProjectFilters) -> QuerySet:
    queryset = Project.objects.search(filters.search)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.organization and scope.context is None:
        queryset = queryset.filter(organization=_filter_organization(scope=scope, public_id=filters.organization))
    return queryset


def project_list(*, scope: Scope, filters: ProjectFilters = ProjectFilters(), actions: bool = False) -> QuerySet:
    """The one project list (pages and API): what `scope` may see, in its org or across orgs,
    narrowed by `filters`, with the caretaker mark and own role (and `may_<action>` with `actions`).
    The pages and the API take it with its total from `project_page`."""
    return _listed(_filtered_projects(scope=scope, filters=filters), scope=scope, actions=actions)


def _listed(queryset: QuerySet, *, scope: Scope, actions: bool) -> QuerySet:
    queryset = restrict(queryset.select_related("organization"), scope, ProjectAction.VIEW)
    return project_annotate_for_user(queryset, user=scope.user, actions=actions).order_by("name", "id")


@dataclass(frozen=True)
class ProjectPage:
    """A project list with its total (`project_page`)."""

    queryset: QuerySet
    # exact up to the cap, else cap + 1 ("more than …")
    count: int
    # the user's memberships as read for the list (None inside an org), for the org filter
    memberships: list[MembershipRow] | None
    # one grant path alone held more than the cap: the org filter need not read the grants again
    grants_over_cap: bool = False
    # the active orgs the user's role reaches, if the count read them (the org filter's start)
    reached_org_ids: list[int] | None = None
    # the user's access paths as built for the list (None inside an org, and where the list's
    # statements are compiled: then `reads` serves the org filter)
    paths: _AccessPaths | None = None
    # the orgs of the projects on the grant paths the count read whole, by path, where the list is
    # not narrowed (the org filter's other half)
    grant_org_ids: dict[int, set[int]] | None = None
    # the user's role reaches customers as partner staff; the number of orgs it reaches directly
    reaches_customers: bool = False
    direct_orgs: int = 0
    # how the list read its statements (across orgs): the org filter reads its own alike
    reads: _OrmReads | None = None


def project_page(
    *, scope: Scope, filters: ProjectFilters = ProjectFilters(), cap: int, actions: bool = False
) -> ProjectPage:
    """`project_list` and how many projects it holds, exact up to `cap` (else `cap` + 1), for
    the pages and the API (issue 13). Across orgs the count streams from the user's access paths
    (`_count_reads`: the cost of `cap` rows whatever the reach), and a reach above `cap` gets the
    list's shape for large reaches (`accessible_projects_q(large=True)`); the memberships and the
    filter's org are read once for both.

    Across orgs and without a search, the count's statements and the list's are the ORM's
    compiled once per shape of the user's memberships (`_CompiledReads`): building the access
    filter was most of the cost of the list (issue 13). `queryset` is then a `CompiledProjects`
    (sliced like a QuerySet; `as_queryset()` is the same list built by the ORM)."""
    user = scope.user
    if scope.context is not None or not getattr(user, "is_authenticated", False):
        queryset = _filtered_projects(scope=scope, filters=filters)
        count = restrict(queryset, scope, ProjectAction.VIEW).order_by().values("pk")[: cap + 1].count()
        return ProjectPage(_listed(queryset, scope=scope, actions=actions), count, None)
    memberships = memberships_of(user)
    at = timezone.now()
    if filters.search:  # a search term is no parameter of its own (`%term%`): built by the ORM
        paths = _access_paths(user, ProjectAction.VIEW, at, memberships)
        reads = _OrmReads(_Env(paths, _filtered_projects(scope=scope, filters=filters), user, at))
    else:
        organization = (
            _filter_organization(scope=scope, public_id=filters.organization) if filters.organization else None
        )
        reads = _CompiledReads.of(user, at, memberships, status=filters.status, organization=organization)
        paths = None
    counted = _count_reads(reads, ProjectAction.VIEW, cap)
    large = counted.count > cap
    if paths is None:
        listed = CompiledProjects(reads, large=large, actions=actions)
    else:
        listed = _list_statement(reads.env, large=large, actions=actions)
    return ProjectPage(
        listed,
        counted.count,
        memberships,
        counted.grants_over_cap and cap >= FILTER_GRANT_ROWS,
        counted.reached_org_ids,
        paths,
        counted.grant_org_ids if filters == ProjectFilters() else None,
        reaches_customers=bool(reads.env.paths.sources),
        direct_orgs=len(reads.env.paths.direct_ids),
        reads=reads,
    )


def _list_statement(env: _Env, *, large: bool, actions: bool) -> QuerySet:
    listed = _accessible_filter(
        env.base.select_related("organization"), env.user, ProjectAction.VIEW, large=large, paths=env.paths
    )
    listed = project_annotate_for_user(
        listed, user=env.user, actions=actions, at=env.at, memberships=env.paths.memberships
    )
    return listed.order_by("name", "id")


# Compiled statements of the project lists, by shape; a process keeps at most this many.
_COMPILED_LIMIT = 500
_compiled: dict[tuple, CompiledStatement | CompiledQuery] = {}
_STAND_IN_STATUS = "stand-in-status-7000001"


def _compiled_once(key: tuple, compile_: Callable[[], CompiledStatement | CompiledQuery]):
    statement = _compiled.get(key)
    if statement is None:
        if len(_compiled) >= _COMPILED_LIMIT:
            _compiled.clear()  # shapes are few; this only bounds a process that met many
        statement = _compiled[key] = compile_()
    return statement


def _padded(ids: list[int]) -> list[int]:
    """`ids` repeated at the end up to the next power of two: the same IN (…), and one statement
    serves every length up to it (a staff member's 1 to 1,000 assigned customers: 11 shapes)."""
    if not ids:
        return ids
    return ids + [ids[-1]] * ((1 << (len(ids) - 1).bit_length()) - len(ids))


class _CompiledReads:
    """The count's and the list's statements for users whose memberships have one shape (their
    roles, their orgs' status and kind, in a fixed order): built by the ORM once per process from
    stand-in memberships (`_Env` of stand-ins: the same access paths, other ids) and compiled
    (`portal.statements`); each call substitutes the user's ids, memberships, moment and filters.
    The SQL is the ORM's, as `_OrmReads` runs it: only the parameters differ."""

    def __init__(self, env: _Env, shape: tuple, values: dict, stand_ins: dict, real_of: dict[int, int], user, rows):
        self.env, self.shape, self.values, self.stand_ins, self.real_of = env, shape, values, stand_ins, real_of
        self.user, self.memberships = user, rows  # the user's own (`CompiledProjects.as_queryset`)

    @classmethod
    def of(cls, user, at, memberships: list[MembershipRow], *, status: str, organization: Organization | None):
        rows = sorted(memberships, key=lambda m: (m.role, m.organization_active, m.organization_is_partner, m.pk))
        signature = tuple((m.role, m.organization_active, m.organization_is_partner) for m in rows)
        using = DEFAULT_DB_ALIAS
        shape = (using, connections[using].vendor, signature, bool(status), organization is not None)
        ids = stand_in_ids(2 * len(rows) + 1)
        members, organization_stand_in = ids[:-1], ids[-1]
        stand_ins = {
            "user": STAND_IN_ID,
            "at": STAND_IN_MOMENT,
            "members": members,
            "organization": organization_stand_in,
            "status": _STAND_IN_STATUS,
        }
        values = {
            "user": user.pk,
            "at": at,
            "members": [value for m in rows for value in (m.pk, m.organization_id)],
            "organization": organization.pk if organization is not None else None,
            "status": status,
        }
        real_of = dict(zip(members, values["members"], strict=True))
        return cls(_stand_in_env(shape), shape, values, stand_ins, real_of, user, rows)

    def _lists(self, lists: dict[str, list[int]]) -> tuple[dict, dict]:
        """Per list parameter: its stand-ins (after every other stand-in) and its values, padded."""
        stand_ins, values = {}, {}
        below = len(self.stand_ins["members"]) + 1
        for name, ids in lists.items():
            padded = _padded(self.real(ids))
            stand_ins[name] = stand_in_ids(below + len(padded))[below:]
            values[name] = padded
            below += len(padded)
        return stand_ins, values

    def rows(self, key: tuple, build: Callable[..., QuerySet], **lists: list[int]) -> list[tuple]:
        stand_ins, values = self._lists(lists)

        def compile_() -> CompiledStatement:
            def sql(**given):
                return build(self.env, **{name: given[name] for name in lists}).query.sql_with_params()

            return CompiledStatement.compile(sql, using=self.shape[0], partial=True, **self.stand_ins, **stand_ins)

        lengths = tuple(len(ids) for ids in values.values())
        statement = _compiled_once((*self.shape, *key, lengths), compile_)
        return statement.fetchall(**self.values, **values)

    def objects(self, key: tuple, build: Callable[..., QuerySet], **lists: list[int]) -> list:
        stand_ins, values = self._lists(lists)

        def compile_() -> CompiledQuery:
            def queryset(**given):
                return build(self.env, **{name: given[name] for name in lists})

            return CompiledQuery.compile(queryset, using=self.shape[0], partial=True, **self.stand_ins, **stand_ins)

        lengths = tuple(len(ids) for ids in values.values())
        return _compiled_once((*self.shape, *key, lengths), compile_).fetch(**self.values, **values)

    def projects(self, *, large: bool, actions: bool) -> CompiledQuery:
        def compile_() -> CompiledQuery:
            def build(**_given):
                return _list_statement(self.env, large=large, actions=actions)

            return CompiledQuery.compile(build, using=self.shape[0], partial=True, **self.stand_ins)

        return _compiled_once((*self.shape, "list", large, actions), compile_)

    def real(self, ids: list[int]) -> list[int]:
        """`ids` with the stand-ins of the memberships' ids replaced by the user's."""
        return [self.real_of.get(pk, pk) for pk in ids]


_stand_in_envs: dict[tuple, _Env] = {}


def _stand_in_env(shape: tuple) -> _Env:
    """The access paths of stand-in memberships of `shape`, with stand-in filters (built once)."""
    env = _stand_in_envs.get(shape)
    if env is None:
        _using, _vendor, signature, status, organization = shape
        ids = stand_in_ids(2 * len(signature) + 1)
        memberships = [
            MembershipRow(ids[2 * index], ids[2 * index + 1], role, active, partner)
            for index, (role, active, partner) in enumerate(signature)
        ]
        user = User(pk=STAND_IN_ID)
        user._state.adding = False  # a saved row as far as filters by it go
        base = Project.objects.all()
        if status:
            base = base.filter(status=_STAND_IN_STATUS)
        if organization:
            base = base.filter(organization_id=ids[-1])
        paths = _access_paths(user, ProjectAction.VIEW, STAND_IN_MOMENT, memberships)
        env = _stand_in_envs[shape] = _Env(paths, base, user, STAND_IN_MOMENT)
        if len(_stand_in_envs) > _COMPILED_LIMIT:
            _stand_in_envs.clear()
    return env


class CompiledProjects:
    """A project list read by its compiled statement (`project_page`): sliced like a QuerySet
    (what the paginators do); any other ordering is the same list built by the ORM."""

    model = Project
    ordered = True

    def __init__(self, reads: _CompiledReads, *, large: bool, actions: bool):
        self._reads, self._large, self._actions = reads, large, actions

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("a project list is read by slices")
        low, high = index.start or 0, index.stop
        if high is not None and high <= low:
            return []
        statement = self._reads.projects(large=self._large, actions=self._actions)
        return statement.fetch(low, high, **self._reads.values)

    def __iter__(self):
        return iter(self[0:])

    def order_by(self, *fields):
        return self if fields == ("name", "id") else self.as_queryset().order_by(*fields)

    def as_queryset(self) -> QuerySet:
        """The same list built by the ORM for the user's own values (EXPLAIN, other orderings)."""
        reads = self._reads
        values, user, memberships = reads.values, reads.user, reads.memberships
        base = Project.objects.all()
        if values["status"]:
            base = base.filter(status=values["status"])
        if values["organization"] is not None:
            base = base.filter(organization_id=values["organization"])
        paths = _access_paths(user, ProjectAction.VIEW, values["at"], memberships)
        return _list_statement(_Env(paths, base, user, values["at"]), large=self._large, actions=self._actions)


def project_list_for_user(
    *,
    user,
    action: str = ProjectAction.VIEW,
    organization=None,
    search: str = "",
    annotate: bool = False,
    actions: bool = False,
) -> QuerySet:
    """Projects `user` may `action` across all orgs (optionally one org, a search by name or number)."""
    queryset = Project.objects.select_related("organization").search(search)
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    queryset = restrict(queryset, Scope(user=user), action)
    if annotate:
        queryset = project_annotate_for_user(queryset, user=user, actions=actions)
    return queryset


def user_has_projects(user, *, memberships: list[MembershipRow] | None = None) -> bool:
    """Whether `user` may view any project across orgs (the home redirect of end customers without
    an org, PRJ-3). `memberships`: `memberships_of(user)` where the caller has read it already."""
    if not getattr(user, "is_authenticated", False):
        return False
    paths = _access_paths(user, ProjectAction.VIEW, timezone.now(), memberships)
    return _accessible_filter(Project.objects.order_by(), user, ProjectAction.VIEW, paths=paths).exists()


# The org filter reads at most this many of the user's grant rows; beyond, it is an identifier field.
FILTER_GRANT_ROWS = 1000


def _first_values(reads: _OrmReads, key: tuple, build: Callable[[_Env], QuerySet], limit: int) -> list[int] | None:
    """The single column of the first `limit` rows of `build(env)`, or None when there are more."""
    values = [value for (value,) in reads.rows((*key, limit), lambda env: build(env)[: limit + 1])]
    return None if len(values) > limit else values


def _reached_for_filter(reads: _OrmReads, limit: int) -> set[int] | None:
    """The orgs the user's role reaches (members and partner staff), None beyond `limit`."""
    paths = reads.env.paths
    ids: set[int] = set(reads.real(paths.direct_ids))
    if len(ids) > limit:
        return None
    for index in range(len(paths.sources)):
        customers = _first_values(
            reads, ("filter: customers", index), lambda env, index=index: env.paths.sources[index], limit
        )
        if customers is None:
            return None
        ids.update(customers)
        if len(ids) > limit:
            return None
    return ids


def organizations_with_projects_for_user(
    *,
    user,
    limit: int,
    memberships: list[MembershipRow] | None = None,
    grants_over_limit: bool = False,
    reached_org_ids: list[int] | None = None,
    paths: _AccessPaths | None = None,
    grant_org_ids: dict[int, set[int]] | None = None,
    reads: _OrmReads | None = None,
) -> list[Organization] | None:
    """The orgs holding a project `user` may see (the org filter of `/projects/`), by name; None
    when there are more than `limit` (the page asks for the identifier instead).

    Read from the user's memberships, the customers reached through them (at most `limit` + 1
    read) and at most FILTER_GRANT_ROWS of the user's grant rows – a handful of small queries by
    index whatever the user reaches (issue 13: the DISTINCT over the orgs of 100,000 granted
    projects took 400 ms). Archived projects count (they are listed); archived orgs do not.
    `memberships`: `memberships_of(user)` if the caller has read them already; `grants_over_limit`:
    the caller found more than FILTER_GRANT_ROWS visible projects on one grant path (the answer is
    then None without reading them again); `reached_org_ids`: the active orgs the user's role
    reaches, if the caller has read them (`ProjectPage.reached_org_ids`); `paths`: the user's
    access paths for viewing, if the caller has built them (`ProjectPage.paths`: not built twice);
    `grant_org_ids`: per grant path (its index in `paths.granted`), the orgs of its projects if the
    caller has read them (`ProjectPage.grant_org_ids`: that path is then not read again);
    `reads`: how the list read its statements (`ProjectPage.reads`: the filter's are then compiled
    once per shape as the list's, and `paths` and `memberships` are not needed)."""
    if grants_over_limit:
        return None
    if reads is None:
        at = timezone.now()
        paths = paths or _access_paths(user, ProjectAction.VIEW, at, memberships)
        reads = _OrmReads(_Env(paths, Project.objects.all(), user, at))
    ids = _reached_for_filter(reads, limit) if reached_org_ids is None else set(reached_org_ids)
    if ids is None or len(ids) > limit:
        return None
    for index in range(len(reads.env.paths.granted)):
        if grant_org_ids and index in grant_org_ids:
            ids.update(grant_org_ids[index])
            continue
        organizations = _first_values(
            reads,
            ("filter: grants", index),
            lambda env, index=index: env.paths.granted[index].values_list("content_object__organization_id"),
            FILTER_GRANT_ROWS,
        )
        if organizations is None:
            return None
        ids.update(organizations)
    if len(ids) > limit:
        return None
    if not ids:
        return []

    def with_projects(env: _Env, organizations: list[int]) -> QuerySet:
        has_project = Exists(Project.objects.filter(organization=OuterRef("pk")))
        return (
            Organization.objects.filter(pk__in=organizations, status=Organization.Status.ACTIVE)
            .filter(has_project)
            .order_by("name", "id")
        )

    return reads.objects(("filter: orgs",), with_projects, organizations=sorted(ids))


def _held_roles(project: Project) -> list[str]:
    """The project roles the user holds on a project annotated by `_role_annotations`."""
    if project.direct_org_role is not None:
        inherited = inherited_project_role(project.direct_org_role, via_partner=False)
    else:
        acting = PARTNER_ROLE_IN_CUSTOMER.get(project.partner_org_role or "")
        inherited = inherited_project_role(acting, via_partner=True)
    return [role for role in (inherited, project.own_role, project.caretaker_role) if role]


def allowed_actions_of(project: Project) -> list[str]:
    """The allowed actions of a project loaded through `project_annotate_for_user(actions=True)`,
    in the order of the role table (the same rule as `project_access_q`, from the loaded roles)."""
    if project.organization.status != Organization.Status.ACTIVE:
        return []
    roles = _held_roles(project)
    return [
        action
        for action in ProjectAction.values
        if any(role_allows(role, action) for role in roles)
        and (project.status == Project.Status.ACTIVE or action in ACTIONS_ON_ARCHIVED_PROJECTS)
    ]


def project_user_may(*, user, project: Project, action: str) -> bool:
    return Project.objects.filter(pk=project.pk).filter(project_access_q(user, action)).exists()


def project_for_user(*, user, number: str, annotate: bool = True) -> Project:
    """The project numbered `number` if `user` may see it, else NotFound (never 403: a project one
    may not see is indistinguishable from a missing one).

    With `annotate` (every project page and endpoint): the row by its unique number with the roles
    that decide every action on it (`project_annotate_for_user(actions=True)`), and whether the
    user sees it read from those roles (`allowed_actions_of`, the same rule as `project_access_q`):
    one query by index and no access filter to plan on top (issue 13: building and planning the
    OR of EXISTS cost more than the page's own queries)."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_("Not found."))
    if annotate:
        project = _project_of_number(user=user, number=str(number).lower(), at=timezone.now(), org_roles=True)
        if project is None or ProjectAction.VIEW not in allowed_actions_of(project):
            raise NotFound(_("Not found."))
        return project
    # by the unique number first, then the access rule for that one row (tenancy's rule, as
    # `project_restrict` applies it across orgs, in the form for few rows)
    queryset = Project.objects.select_related("organization").filter(number=str(number).lower()).order_by()
    project = _accessible_filter(queryset, user, ProjectAction.VIEW, few_rows=True).first()
    if project is None:
        raise NotFound(_("Not found."))
    return project


_STAND_IN_NUMBER = "stand-in-number-7000001"


def _project_of_number(*, user, number: str, at, org_roles: bool) -> Project | None:
    """The project numbered `number` with the roles `project_annotate_for_user(actions=True)`
    adds, by a statement compiled once per process (`CompiledQuery`): building and compiling the
    annotation's subqueries cost more than running them (issue 13)."""

    using = DEFAULT_DB_ALIAS

    def compile_() -> CompiledQuery:
        def build(user, at, number):
            queryset = Project.objects.select_related("organization").filter(number=number).order_by()
            return project_annotate_for_user(queryset, user=user, actions=True, at=at, org_roles=org_roles)

        # prepared: one row by its unique number, the same plan for every user (portal.statements)
        return CompiledQuery.compile(
            build, using=using, prepared=True, user=STAND_IN_ID, at=STAND_IN_MOMENT, number=_STAND_IN_NUMBER
        )

    query = _compiled_once(("project of number", using, connections[using].vendor, org_roles), compile_)
    return next(iter(query.fetch(0, 1, user=user.pk, at=at, number=number)), None)


def project_for_user_with_context(*, user, number: str) -> tuple[Project, OrgContext | None]:
    """`project_for_user` for the pages of one project, with the user's org context in the
    project's org (None where the user acts there only through project roles): the pages show
    that org's navigation anyway. The effective org role that `allowed_actions_of` reads is taken
    from that context (`portal.tenancy.org_context_for_organization`, the rule `_role_annotations`
    repeats in SQL) instead of two more subqueries in the project's query: those were most of its
    building and planning (issue 13)."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_("Not found."))
    project = _project_of_number(user=user, number=str(number).lower(), at=timezone.now(), org_roles=False)
    if project is None:
        raise NotFound(_("Not found."))
    try:
        context = org_context_for_organization(user, project.organization)
    except NotFound:
        context = None
    as_partner = context is not None and context.acting_as_partner
    project.direct_org_role = context.role if context is not None and not as_partner else None
    project.partner_org_role = context.membership.role if as_partner else None
    if ProjectAction.VIEW not in allowed_actions_of(project):
        raise NotFound(_("Not found."))
    return project, context


def project_require(*, user, project: Project, action: str) -> None:
    """Raise unless `user` may `action` on `project` (already known to be visible to the user).

    PermissionDenied (403) when the user's roles do not allow it; Conflict (409) when they would
    but the project is archived.
    """
    if hasattr(project, "caretaker_role"):  # loaded with actions=True
        allowed = action in allowed_actions_of(project)
    else:
        allowed = project_user_may(user=user, project=project, action=action)
    if allowed:
        return
    if project.status == Project.Status.ARCHIVED and action not in ACTIONS_ON_ARCHIVED_PROJECTS:
        may_when_active = (
            Project.objects.filter(pk=project.pk, organization__status=Organization.Status.ACTIVE)
            .filter(_access_q(user, action, timezone.now()))
            .exists()
        )
        if may_when_active:
            raise Conflict(_("This project is archived. Restore it first."), code="project_archived")
    if _reached_as_caretaker(user, project):
        _refuse_caretaker(project, action)
    raise PermissionDenied(_("Your role on this project does not allow this."))


def _reached_as_caretaker(user, project: Project) -> bool:
    if hasattr(project, "caretaker_role"):  # loaded with actions=True
        return project.caretaker_role is not None
    return Project.objects.filter(pk=project.pk).filter(project_caretaker_q(user)).exists()


def _refuse_caretaker(project: Project, action: str) -> None:
    """A caretaker (External, DLG-4) is told who decides instead of a bare 403 (issue 16): orders,
    members and deletion stay with the project's organization."""
    customer = project.organization.name
    if action == ProjectAction.ORDER_SERVICES:
        raise PermissionDenied(
            _("Only %(customer)s can order this: ask them to order it.") % {"customer": customer},
            code="caretaker_cannot_order",
        )
    raise PermissionDenied(
        _("Only %(customer)s can do this on its project: ask them to do it.") % {"customer": customer},
        code="caretaker_not_allowed",
    )


def project_grants(*, project: Project) -> QuerySet[ProjectRoleGrant]:
    """The role grants of a project: people first (by email), then caretaker orgs."""
    return project.grants.select_related("user", "organization").order_by(
        F("organization__name").asc(nulls_first=True), "user__email", "id"
    )
