"""Reads of delegations: the tenancy restriction and the overview's tabs (DLG-3).

Inside an org (`scope.context`) a delegation is visible to both of its sides – the project's org
and the caretaker org – and to nobody else. Outside any org (the release link) only releases
addressed to the user's own email are visible.
"""

from __future__ import annotations

import functools

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from organizations.models import Membership, Organization
from organizations.roles import roles_with_capability
from portal.errors import NotFound
from portal.statements import STAND_IN_ID, STAND_IN_MOMENT, CompiledQuery, CompiledStatement
from portal.tenancy import Scope, restrict, restriction
from projects.models import Project

from .models import Delegation, DelegationRequesterBlock

Status = Delegation.Status
Direction = Delegation.Direction


@restriction(Delegation)
def delegation_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    if scope.context is not None:
        return queryset.filter(delegation_sides_q(scope.context.organization))
    email = (getattr(scope.user, "email", "") or "").lower()
    return queryset.filter(direction=Direction.RELEASE, invited_email=email) if email else queryset.none()


def delegation_sides_q(organization) -> Q:
    """What an org sees inside its context: the delegations of its projects and those it cares for.
    `organization` is an org or its pk."""
    return Q(organization=organization) | Q(caretaker=organization)


@restriction(DelegationRequesterBlock)
def delegation_requester_block_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    """An org's own blocks only; nothing outside an org."""
    if scope.context is None:
        return queryset.none()
    return queryset.filter(organization=scope.context.organization)


def delegation_requester_blocks(org_context) -> QuerySet:
    queryset = restrict(DelegationRequesterBlock.objects.all(), Scope(user=org_context.user, context=org_context))
    # what the Open requests page shows of a block: the blocked org by name and identifier
    return (
        queryset.select_related("blocked_organization")
        .only("organization_id", "created_at", "blocked_organization__name", "blocked_organization__public_id")
        .order_by("-created_at", "-id")
    )


def _tab_filters(organization: Organization, at=None) -> dict[str, Q]:
    """Each tab of the overview as a filter on the stored columns (`current_status_q`: no CASE in
    WHERE, so the (organization|caretaker, status) indexes serve it – issue 13)."""
    at = at or timezone.now()

    def current(*statuses) -> Q:
        return Delegation.objects.current_status_q(statuses, at)

    pending = current(Status.PENDING)
    active = current(Status.ACTIVE)
    return {
        # requests by caretakers for this org's projects, waiting for a decision here
        "incoming": pending & Q(direction=Direction.REQUEST, organization=organization),
        # this org's own requests as caretaker, waiting for the other side
        "outgoing": pending & Q(direction=Direction.REQUEST, caretaker=organization),  # dropped ones too
        # this org's projects cared for by others, or released and waiting for acceptance
        "released": Q(organization=organization) & (active | (pending & Q(direction=Direction.RELEASE))),
        # other orgs' projects this org takes care of
        "managed": Q(caretaker=organization) & active,
        # everything that ended, on either side
        "ended": current(*(status for status in Status.values if status not in Delegation.OPEN_STATUSES)),
    }


def delegation_status_filter(queryset: QuerySet, status: str, at=None) -> QuerySet:
    """Rows whose current status (as `with_current_status` shows it) is `status`, on the stored
    columns (the API's `status` filter)."""
    return queryset.filter(Delegation.objects.current_status_q([status], at or timezone.now()))


TABS = {
    "incoming": _("Incoming requests"),
    "outgoing": _("Outgoing requests"),
    "released": _("Released projects"),
    "managed": _("Managed projects"),
    "ended": _("Ended"),
}


# What the lists show of a row (the overview, the Open requests page, the dashboard panels): the
# related orgs by name only, not their 30 columns each (issue 13: a page of 25 rows).
LIST_FIELDS = (
    "project_id",
    "organization_id",
    "caretaker_id",
    "requested_number",
    "direction",
    "invited_email",
    "message",
    "status",
    "ends_at",
    "respond_by",
    "created_at",
    "decided_at",
    "ended_at",
    "project__number",
    "project__name",
    "organization__name",
    "caretaker__name",
)


def delegation_list(*, queryset: QuerySet, organization: Organization, tab: str, at=None) -> QuerySet:
    """One tab of the overview; `queryset` is already restricted to the org (DLG-3)."""
    at = at or timezone.now()
    rows = queryset.with_current_status(at).filter(_tab_filters(organization, at)[tab])
    order = ["ends_at", "-created_at", "-id"] if tab in ("released", "managed") else ["-created_at", "-id"]
    return rows.select_related("project", "organization", "caretaker").only(*LIST_FIELDS).order_by(*order)


def delegation_search(queryset: QuerySet, *, organization: Organization, term: str) -> QuerySet:
    """Search by number, and by project name only where this org may see the name (item 3): a
    caretaker must not find out a requested project's name by searching for it."""
    term = (term or "").strip()[:100]
    if not term:
        return queryset
    revealed_to_caretaker = Q(caretaker=organization) & (
        Q(direction=Direction.RELEASE)
        | Q(status__in=[Status.ACTIVE, Status.REVOKED])
        | Q(status=Status.EXPIRED, decided_at__isnull=False)
    )
    return queryset.filter(
        Q(requested_number__icontains=term)
        | (Q(project__name__icontains=term) & (Q(organization=organization) | revealed_to_caretaker))
    )


# A tab's badge counts up to this many rows ("99+" beyond): five badges on every visit of the
# overview; the shown tab's pager counts on up to COUNT_CAP where it has more (the view).
TAB_COUNT_CAP = 99


def delegation_tab_counts(
    *, organization: Organization, cap: int | None = None, tabs: tuple[str, ...] = tuple(TABS), using: str = "default"
) -> dict[str, int]:
    """The number of rows in each of `tabs` (all five by default) of `organization`'s overview (the
    rows `delegation_restrict` shows it), each counted up to `cap` + 1 (`TAB_COUNT_CAP`), in one
    query. The overview's pager counts its one long tab on with `cap=COUNT_CAP, tabs=(tab,)`.

    Issue 13: an agency may hold 30,000 delegations. Grouping all of them to count the tabs read
    every row on each visit; now each tab's filter (plain stored columns, served by the
    (organization|caretaker, status) indexes) reads at most `cap` + 1 rows, and a tab beyond the
    cap shows "99+" (`portal.pagination.capped_label`). The counts are exact up to the cap."""
    cap = TAB_COUNT_CAP if cap is None else cap
    unknown = set(tabs) - set(TABS)
    if unknown:
        raise ValueError(f"unknown tabs {sorted(unknown)}")
    [row] = _tab_counts_statement(using, cap, tuple(tabs)).fetchall(organization=organization.pk, at=timezone.now())
    return dict(zip(tabs, (int(value) for value in row), strict=True))


@functools.lru_cache(maxsize=16)
def _tab_counts_statement(using: str, cap: int, tabs: tuple[str, ...]) -> CompiledStatement:
    """The tab-count SELECT, built and compiled by the ORM once per process (`portal.statements`):
    building five filtered subqueries cost ~2.4 ms on every visit of the overview, more than
    running them (issue 13)."""

    def build(organization, at):
        filters = _tab_filters(organization, at)
        visible = Delegation.objects.using(using).filter(delegation_sides_q(organization))
        parts, params = [], []
        for tab in tabs:
            rows = visible.filter(filters[tab]).order_by().values("pk")[: cap + 1]
            sql, tab_params = rows.query.get_compiler(using=using).as_sql()
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS {tab}_rows)")
            params.extend(tab_params)
        return f"SELECT {', '.join(parts)}", params

    return CompiledStatement.compile(build, using=using, organization=STAND_IN_ID, at=STAND_IN_MOMENT)


class TabRows:
    """The rows of one tab of `organization`'s overview (`delegation_list` of what
    `delegation_restrict` shows it), read a slice at a time – what the pager asks for – by a
    statement compiled once per tab and process (`portal.statements.CompiledQuery`): building
    the tab's filters, status annotation and joins cost more than reading its 25 rows (issue 13)."""

    model = Delegation
    ordered = True

    def __init__(self, *, organization: Organization, tab: str, using: str = "default"):
        if tab not in TABS:
            raise ValueError(f"unknown tab {tab!r}")
        self.organization, self.tab, self.using = organization, tab, using
        self.at = timezone.now()

    def __getitem__(self, index: slice) -> list[Delegation]:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("a tab is read by slices")
        low, high = index.start or 0, index.stop
        if high is not None and high <= low:
            return []
        return _tab_rows_query(self.using, self.tab).fetch(low, high, organization=self.organization.pk, at=self.at)


@functools.lru_cache(maxsize=16)
def _tab_rows_query(using: str, tab: str) -> CompiledQuery:
    def build(organization, at):
        visible = Delegation.objects.using(using).filter(delegation_sides_q(organization))
        return delegation_list(queryset=visible, organization=organization, tab=tab, at=at)

    return CompiledQuery.compile(build, using=using, organization=STAND_IN_ID, at=STAND_IN_MOMENT)


def delegation_caretaker_choices(*, user) -> QuerySet[Organization]:
    """Orgs `user` may accept a release for: active orgs where it is Owner/Admin (DLG-2)."""
    memberships = Membership.objects.filter(user=user, role__in=list(roles_with_capability("delegations.manage")))
    return Organization.objects.active().filter(pk__in=memberships.values("organization_id")).order_by("name", "id")


def release_delegations_for_token(*, token: str, user) -> list[Delegation]:
    """The delegations of a release link, for its addressee only (DLG-2).

    Anybody else – another account, an unknown or malformed token – gets the same `NotFound`, so
    the link reveals nothing about projects or orgs to someone it was not sent to.
    """
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise NotFound(gettext("This link is not valid for your account."), code="invalid_link")
    delegations = list(
        restrict(Delegation.objects.filter(token=token), Scope(user=user))
        .with_current_status()
        .select_related("project", "organization", "caretaker")
        .order_by("project__number", "id")
    )
    if not delegations:
        raise NotFound(gettext("This link is not valid for your account."), code="invalid_link")
    return delegations


def delegation_requests_awaiting(org_context) -> int:
    """Requests by caretakers waiting for a decision by this org (the "Open requests" badge)."""
    if not org_context.has("requests.decide"):
        return 0
    queryset = restrict(Delegation.objects.all(), Scope(user=org_context.user, context=org_context))
    # The tab's filter on the stored columns, without the list's status annotation and joins.
    return queryset.filter(_tab_filters(org_context.organization)["incoming"]).count()


def delegation_open_requests_section(org_context) -> dict:
    """The delegations section of the shared "Open requests" page (DLG-1): incoming, outgoing and
    the blocked requesters. Partner staff acting inside see the lists, never the decision buttons
    (`requests.decide` is a consent)."""
    if not org_context.has("requests.view"):
        return {"show": False, "incoming": [], "outgoing": [], "blocks": []}
    organization = org_context.organization
    # The two tabs' rows as the overview reads them: what `delegation_restrict` shows the org in
    # its context, by the statements compiled once per tab (`TabRows`, issue 13).
    return {
        "show": True,
        "can_decide": org_context.has("requests.decide"),
        "consent_note": org_context.consent_withheld("requests.decide"),
        "incoming": TabRows(organization=organization, tab="incoming")[:50],
        "outgoing": TabRows(organization=organization, tab="outgoing")[:50],
        "blocks": list(delegation_requester_blocks(org_context)[:100]),
    }


def delegation_actions_offered(org_context) -> dict:
    """Which way(s) into a delegation the overview offers this org, and which one is primary
    (issue 16). Both need "delegations.manage" (organizations/roles.py); an org's part decides:

    - an org that takes (or took, or asked to take) care of others' projects acts as an agency:
      "Request care for a project" is its primary action;
    - an org with active projects of its own may release them to a caretaker – a customer's
      primary action; it is not offered requests unless it already acts as an agency;
    - an org with neither (a new agency) starts with a request.
    """
    if not org_context.has("delegations.manage"):
        return {"request": False, "release": False, "primary": None}
    [(acts_as_agency, has_projects)] = _org_part_statement().fetchall(organization=org_context.organization.pk)
    request = acts_as_agency or not has_projects
    return {"request": request, "release": has_projects, "primary": "request" if request else "release"}


@functools.lru_cache(maxsize=1)
def _org_part_statement() -> CompiledStatement:
    """Whether an org cares for (or asked to care for) others' projects and whether it has active
    projects of its own: one statement, built and compiled once per process (issue 13: two ORM
    EXISTS queries built on every visit of the overview cost more than running them)."""

    def build(organization):
        cares = Delegation.objects.filter(caretaker=organization).order_by().values("pk")[:1]
        owns = Project.objects.filter(organization=organization, status=Project.Status.ACTIVE)
        parts, params = [], []
        for queryset in (cares, owns.order_by().values("pk")[:1]):
            sql, part_params = queryset.query.sql_with_params()
            parts.append(f"EXISTS({sql})")
            params.extend(part_params)
        return f"SELECT {', '.join(parts)}", params

    return CompiledStatement.compile(build, using="default", organization=STAND_IN_ID)


def delegation_caring_for(*, user, project) -> Delegation | None:
    """The active delegation through which `user`'s org takes care of `project` (DLG-4), for the
    caretaker's view of the project: who the customer is, until when, and where to end it."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Delegation.objects.with_current_status()
        .filter(Delegation.objects.current_status_q([Status.ACTIVE], timezone.now()))
        .filter(project=project, caretaker__memberships__user=user)
        .select_related("organization", "caretaker")
        .order_by("ends_at", "id")
        .first()
    )
