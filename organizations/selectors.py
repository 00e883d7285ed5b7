"""Reads of organizations: tenancy restrictions and lists."""

from __future__ import annotations

import datetime
import functools
import hashlib
import re

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Lower, Upper
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from portal.errors import NotFound
from portal.statements import STAND_IN_ID, STAND_IN_MOMENT, CompiledQuery, CompiledStatement, stand_in_ids
from portal.tenancy import (
    Scope,
    active_reseller_relation,
    active_reseller_relations,
    memberships_of,
    organizations_for_user_by_ids,
    reach_keys_q,
    reach_loaded,
    restrict,
    restriction,
)

from .models import AuditEvent, CustomerRelation, Invitation, Membership, Organization, StaffAssignment, User
from .roles import PARTNER_ROLES_NEEDING_ASSIGNMENT, ROLE_RANK, roles_with_capability

# --- ORG-5: members and invitations ---------------------------------------------------------------


@restriction(Membership)
def membership_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    """Inside an org: its members. Outside any org: the user's own memberships."""
    if scope.context is not None:
        return queryset.filter(organization=scope.context.organization)
    return queryset.filter(user=scope.user, organization__status=Organization.Status.ACTIVE)


@restriction(Invitation)
def invitation_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    """Inside an org: the invitations into it. Outside any org: those addressed to the user."""
    if scope.context is not None:
        return queryset.filter(organization=scope.context.organization)
    email = (getattr(scope.user, "email", "") or "").lower()
    return queryset.filter(email=email, organization__status=Organization.Status.ACTIVE) if email else queryset.none()


ROLE_ORDER = Case(
    *[When(role=role, then=Value(-rank)) for role, rank in ROLE_RANK.items()], output_field=IntegerField()
)


def member_list(*, queryset: QuerySet, search: str = "") -> QuerySet:
    """Members of the org, strongest role first, then by name; `search` matches name or email."""
    search = (search or "").strip()[:100]
    if search:
        queryset = queryset.filter(
            Q(user__email__icontains=search)
            | Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
        )
    return (
        queryset.select_related("user")
        .annotate(role_order=ROLE_ORDER)
        .order_by("role_order", "user__last_name", "user__first_name", "user__email", "id")
    )


def owner_count(organization: Organization) -> int:
    """How many Owners the org has: the last one is neither removed nor demoted (ORG-5), so the
    members page does not offer it."""
    from .roles import OrgRole

    return Membership.objects.filter(organization=organization, role=OrgRole.OWNER).count()


def members_with_capability(organization: Organization, capability: str) -> list[User]:
    """The active users whose role in `organization` (their own membership, not partner staff)
    holds `capability` in the role table: who is told about, and decides on, the org's requests."""
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization=organization,
            memberships__role__in=list(roles_with_capability(capability)),
        )
        .order_by("id")
        .distinct()
    )


def invitation_list(*, queryset: QuerySet, status: str | None = None, search: str = "") -> QuerySet:
    """Invitations of the org with their status as of now, newest first."""
    rows = queryset.with_current_status().select_related("invited_by")
    if status:
        rows = rows.filter(current_status=status)
    search = (search or "").strip()[:100]
    if search:
        rows = rows.filter(email__icontains=search)
    return rows.order_by("-created_at", "-id")


def invitation_for_token(*, token: str) -> Invitation:
    """The invitation of a link, whatever its state; `NotFound` for an unknown or malformed token."""
    token = (token or "").strip()
    invitation = None
    if token and len(token) <= 100:
        invitation = (
            Invitation.objects.with_current_status()
            .select_related("organization", "invited_by")
            .filter(token_hash=hashlib.sha256(token.encode()).hexdigest())
            .first()
        )
    if invitation is None or invitation.organization.status != Organization.Status.ACTIVE:
        raise NotFound(gettext("This invitation link is not valid."), code="invalid_link")
    return invitation


# =================================================================================================
# Customer relations, the partner's customers, the switcher, the audit trail (ORG-3, ORG-4,
# ORG-10, ORG-11). Everything here filters in SQL and runs a fixed number of queries, however many
# customers a partner has (the partner with 10,000 customers of the SPEC's scale section).
# =================================================================================================

SEARCH_MAX_LENGTH = 100
SWITCHER_LIMIT = 20


def search_term(value: str | None) -> str:
    return (value or "").strip()[:SEARCH_MAX_LENGTH]


def organization_search(queryset: QuerySet, term: str) -> QuerySet:
    """Name contains `term` (any case), or the identifier is `term` (with or without "ORG-")."""
    return queryset.filter(organization_search_q(term))


# What an identifier ("ORG-8PRQ-9XRC", or a part of it from its start) can look like.
IDENTIFIER_SHAPE = re.compile(r"[A-Z0-9-]+")
# A VAT ID as stored (compact: country prefix, then letters and digits), typed with or without groups.
VAT_ID_SHAPE = re.compile(r"[A-Z]{2}[A-Z0-9]{2,18}")


def organization_search_q(term: str, *, prefix: str = "") -> Q:
    """`organization_search` as a condition on the org at `prefix` ("customer__" for an offer's
    customer): the name contains `term` (any case), or the identifier is or starts with it."""
    term = search_term(term)
    return _organization_search_q(term, prefix=prefix) if term else Q()


def _organization_search_q(term: str, *, prefix: str = "") -> Q:
    """The name contains `term`; the identifier conditions only where `term` can be one (a term
    with a space or an umlaut cannot): each condition is tested on every row where no index
    answers it (issue 13)."""
    # `name__icontains` compared UPPER(name) of every row; `search_name` is that, stored. The term
    # is upper-cased by the database too, so both sides follow the same rules (ß, accents).
    condition = Q(**{f"{prefix}search_name__contains": Upper(Value(term))})
    identifier = term.upper()
    if IDENTIFIER_SHAPE.fullmatch(identifier):
        full = identifier if identifier.startswith("ORG-") else f"ORG-{identifier}"
        condition |= Q(**{f"{prefix}public_id": full}) | Q(**{f"{prefix}public_id__startswith": identifier})
    return condition


# --- customer relations ----------------------------------------------------------------------


@restriction(CustomerRelation)
def customer_relation_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    """Inside an org: relations where the org is the partner or the customer. Partner staff acting
    inside a customer see that customer's relations too. Outside any org: nothing."""
    if scope.context is None:
        return queryset.none()
    return queryset.filter(customer_relation_sides_q(scope.context.organization))


def customer_relation_sides_q(organization) -> Q:
    """What an org sees of relations inside its context: those where it is the partner or the
    customer. `organization` is an org or its pk."""
    return Q(partner=organization) | Q(customer=organization)


CONNECTION_REQUEST_FIELDS = (
    "partner_id",
    "customer_id",
    "status",
    "message",
    "created_at",
    "partner__name",
    "partner__public_id",
    "customer__name",
    "customer__public_id",
)


def connection_requests(*, context, direction: str) -> QuerySet:
    """Open connection requests: "incoming" (this org is asked) or "outgoing" (this partner asks)."""
    queryset = restrict(CustomerRelation.objects.all(), Scope(user=context.user, context=context))
    return _connection_requests_of(queryset, context.organization, direction)


def _connection_requests_of(queryset: QuerySet, organization, direction: str) -> QuerySet:
    side = {"incoming": "customer", "outgoing": "partner"}[direction]
    # what the lists show (the Open requests page, the dashboard): both orgs by name and identifier
    # only, not their 30 columns each (issue 13)
    return (
        queryset.filter(status=CustomerRelation.Status.REQUESTED, **{side: organization})
        .select_related("partner", "customer")
        .only(*CONNECTION_REQUEST_FIELDS)
        .order_by("-created_at", "-id")
    )


@functools.lru_cache(maxsize=8)
def _connection_requests_query(alias: str, direction: str) -> CompiledQuery:
    """`connection_requests` of an org in its context (`customer_relation_restrict` shows it
    `customer_relation_sides_q`), compiled once per database and direction (`portal.statements`)."""

    def build(organization):
        visible = CustomerRelation.objects.using(alias).filter(customer_relation_sides_q(organization))
        return _connection_requests_of(visible, organization, direction)

    return CompiledQuery.compile(build, using=alias, organization=STAND_IN_ID)


def connection_requests_awaiting(org_context) -> int:
    """Incoming requests the org's Owners/Admins decide on (the Open requests badge)."""
    if not org_context.has("requests.decide"):  # a consent: never partner staff acting inside
        return 0
    return connection_requests(context=org_context, direction="incoming").count()


def connection_open_requests_section(org_context) -> dict:
    """The connection section of the shared Open requests page (ORG-3)."""
    if not org_context.has("requests.view"):
        return {"show": False, "incoming": [], "outgoing": []}
    organization = org_context.organization

    def requests(direction):  # the first 50 of `connection_requests`, by its compiled statement
        return _connection_requests_query("default", direction).fetch(0, 50, organization=organization.pk)

    incoming = [] if org_context.acting_as_partner else requests("incoming")
    outgoing = requests("outgoing") if organization.is_partner and not org_context.acting_as_partner else []
    return {"show": True, "incoming": incoming, "outgoing": outgoing, "is_partner": org_context.organization.is_partner}


# --- the partner's customers (ORG-4, ORG-11) --------------------------------------------------


def customer_list(*, context, search: str = "", status: str = Organization.Status.ACTIVE) -> QuerySet[Organization]:
    """The partner's linked customers the user may reach: all for Owners/Admins, the assigned
    ones for Members/Guests (ORG-11). One query per page, independent of the number of customers."""
    partner = context.organization
    linked = active_reseller_relations(OuterRef("pk")).filter(partner=partner)
    assigned = None
    if customer_reach_is_assigned_only(context):
        assigned = _assigned_customer_ids(context.membership)
    if assigned is not None:
        # A few assigned customers by their ids, each one's relation probed by its key (a scalar
        # subquery: as EXISTS, PostgreSQL hashed all 10,000 relations of the partner, 1.9 ms).
        queryset = Organization.objects.filter(pk__in=assigned).filter(IsNull(Subquery(linked.values("pk")[:1]), False))
    else:
        queryset = Organization.objects.filter(Exists(linked))
        if customer_reach_is_assigned_only(context):  # more than ASSIGNED_IDS_MAX: joined
            exists = StaffAssignment.objects.filter(customer=OuterRef("pk"), membership=context.membership)
            queryset = queryset.filter(Exists(exists))
    if status in Organization.Status.values:
        queryset = queryset.filter(status=status)
    return organization_search(queryset, search).order_by("name", "id")


# A Member's assigned customers are read first and put in as ids up to this many; more are joined.
ASSIGNED_IDS_MAX = 1000


def _assigned_customer_ids(membership) -> list[int] | None:
    """The customers assigned to `membership` (ORG-11) as ids, by the assignments' index – one
    query; None without a membership or with more than `ASSIGNED_IDS_MAX`. Issue 13: joined in
    SQL, PostgreSQL (default costs) hashed the partner's 10,000 relations to match 100 assigned
    customers, 6.6 ms; with the ids it walks the page's order and probes each row's relation,
    0.7 ms."""
    if membership is None:
        return None
    ids = list(
        StaffAssignment.objects.filter(membership=membership)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[: ASSIGNED_IDS_MAX + 1]
    )
    return None if len(ids) > ASSIGNED_IDS_MAX else ids


def customer_reach_is_assigned_only(context) -> bool:
    """The user reaches only the customers assigned to them (Members/Guests, ORG-11): a short list
    next to the partner's 10,000, which `customer_list` finds through the assignments."""
    membership = context.membership
    return membership is None or membership.role in PARTNER_ROLES_NEEDING_ASSIGNMENT


def customer_for_partner(*, context, public_id: str) -> Organization:
    """One linked customer (any status) the user may see in the partner org, or NotFound."""
    from django.utils.translation import gettext

    from portal.errors import NotFound

    customer = customer_list(context=context, status="").filter(public_id=str(public_id).upper()).first()
    if customer is None:
        raise NotFound(gettext("Not found."))
    return customer


def staff_for_customer(*, partner: Organization, customer: Organization) -> dict:
    """Who of the partner's staff reaches `customer` (ORG-11): every Owner/Admin; assigned
    Members/Guests; and the Members/Guests one could assign."""
    memberships = list(Membership.objects.filter(organization=partner).select_related("user").order_by("user__email"))
    assigned_ids = set(
        StaffAssignment.objects.filter(customer=customer, membership__organization=partner).values_list(
            "membership_id", flat=True
        )
    )
    return {
        "managers": [m for m in memberships if m.role not in PARTNER_ROLES_NEEDING_ASSIGNMENT],
        "assigned": [m for m in memberships if m.pk in assigned_ids],
        "assignable": [
            m for m in memberships if m.role in PARTNER_ROLES_NEEDING_ASSIGNMENT and m.pk not in assigned_ids
        ],
    }


# --- the orgs a user may act in (ORG-4) ---------------------------------------------------------


def reachable_organizations(user, *, memberships: list | None = None) -> QuerySet[Organization]:
    """Every active org `user` may act in – the orgs of the Organization restriction across orgs
    (`portal.tenancy.reach_ids`) – shaped so that a page in name order costs about the page size.

    Issue 13: a partner's Owner reaches 10,000 customers; collecting their ids first and sorting
    them all by name cost 6x a bare page. With a partner Owner/Admin path in the reach
    (`reach_loaded(...).wide`), the orgs are instead walked in (status, name, id) index order and
    each is tested against the reach as hashed sets (the user's orgs as literal ids, the partners'
    customers, the assigned customers): a page reads about a page of rows. A narrow reach (a few
    own orgs, assigned customers) is still listed from its ids, which is cheaper there.

    `memberships`: `memberships_of(user)` where the caller has it."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    reach = reach_loaded(memberships if memberships is not None else memberships_of(user))
    if not reach.wide:
        return organizations_for_user_by_ids(user)
    return Organization.objects.active().filter(reach_keys_q(reach))


# --- the switcher (ORG-4) ----------------------------------------------------------------------


def switcher_organizations(*, user, search: str = "", limit: int = SWITCHER_LIMIT) -> tuple[list[Organization], bool]:
    """At most `limit` orgs `user` may act in, matching `search`; own orgs first. Three queries at
    most, whether the user reaches 3 or 10,000 orgs. Returns (orgs, more_exist).

    The own orgs (a handful) and the others are read apart, each in (name, id) order: one sort by
    "own first" over the whole reach could not walk the name index (issue 13, see
    `reachable_organizations`)."""
    if not getattr(user, "is_authenticated", False):
        return [], False
    # The own orgs are reached by membership (always part of the reach): read by their literal ids,
    # not through the reach's union, whose planning alone cost more than its run (issue 13).
    memberships = memberships_of(user)
    own_ids = [m.organization_id for m in memberships]
    own = organization_search(Organization.objects.active().filter(pk__in=own_ids), search).order_by("name", "id")
    rows = list(own[: limit + 1])
    if len(rows) <= limit:
        others = reachable_organizations(user, memberships=memberships).exclude(pk__in=own_ids)
        rows += list(organization_search(others, search).order_by("name", "id")[: limit + 1 - len(rows)])
    return rows[:limit], len(rows) > limit


# --- the audit trail (ORG-10) ------------------------------------------------------------------


@restriction(AuditEvent)
def audit_event_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    """The trail of the org in the context: partner admins read their own org's trail and, acting
    inside a customer, that customer's; customers read everything done in their org."""
    if scope.context is None:
        return queryset.none()
    if (
        action == "view_with_customers"
        and scope.context.organization.is_partner
        and not scope.context.acting_as_partner
    ):
        # partner admins: their own trail and those of the customers they reach (one subquery)
        customers = customer_list(context=scope.context, status="").values("pk")
        return queryset.filter(Q(organization=scope.context.organization) | Q(organization__in=customers))
    return queryset.filter(organization=scope.context.organization)


AUDIT_ORIGINS = {"all", "external", "own"}


def audit_origin_filter(queryset: QuerySet, origin: str) -> QuerySet:
    """ "external": done from another org (partner staff, caretakers) than the event's own org;
    "own": by the org's own accounts (or the system)."""
    from django.db.models import F

    if origin == "external":
        return queryset.filter(acting_organization__isnull=False).exclude(acting_organization=F("organization"))
    if origin == "own":
        return queryset.filter(Q(acting_organization__isnull=True) | Q(acting_organization=F("organization")))
    return queryset


def audit_trail(
    *, context, search: str = "", origin: str = "all", with_customers: bool = False, action_code: str = ""
) -> QuerySet[AuditEvent]:
    """The org's trail, newest first. `origin="external"`: what partner staff and caretakers did
    (events recorded with an acting organization other than this one). `with_customers`: a
    partner's trail together with its customers' trails (ORG-10). `action_code`: one action."""
    action = "view_with_customers" if with_customers else "view"
    queryset = restrict(AuditEvent.objects.all(), Scope(user=context.user, context=context), action)
    queryset = audit_origin_filter(queryset, origin)
    if action_code:
        queryset = queryset.filter(action=action_code)
    term = search_term(search)
    if term:
        queryset = queryset.filter(
            Q(action__icontains=term) | Q(target_repr__icontains=term) | Q(actor_email__icontains=term)
        )
    return queryset.select_related("acting_organization", "organization", "actor").order_by("-created_at", "-id")


# --- white label (ORG-8) -----------------------------------------------------------------------


def document_logo_for(organization: Organization):
    """The logo heading a PDF document of `organization` (invoices, offers): its own logo where
    set, else its reseller's; `None` when neither has one. Returns the ImageFieldFile."""
    if organization.logo:
        return organization.logo
    relation = active_reseller_relation(organization)
    if relation is not None and relation.partner.logo:
        return relation.partner.logo
    return None


# --- the customer table (issue 16): columns of the page's rows, filters, duplicates -----------


def _subscription_model():
    # billing builds on organizations; the model is looked up when a query is built, not imported
    from django.apps import apps

    return apps.get_model("billing", "Subscription")


def _contact_invitations(organization_ref) -> QuerySet:
    """The Owner invitations of an org, the first one being the contact person's (ORG-2)."""
    from .roles import OrgRole

    return Invitation.objects.filter(organization=organization_ref, role=OrgRole.OWNER).order_by("created_at", "id")


def _owner_memberships(organization_ref) -> QuerySet:
    from .roles import OrgRole

    return Membership.objects.filter(organization=organization_ref, role=OrgRole.OWNER).order_by("created_at", "id")


def _trials_in_force(organization_ref, at) -> QuerySet:
    """An org's trial in force at `at`: one probe of `one_trial_per_organization`."""
    return _subscription_model().objects.filter(organization=organization_ref).trials().in_force(at)


def _paid_subscriptions_in_force(organization_ref, at) -> QuerySet:
    """An org's paid subscriptions in force at `at`: one index-only probe of `subscription_paid_in_force`."""
    return _subscription_model().objects.filter(organization=organization_ref).paid().in_force(at)


def customer_table_columns(queryset: QuerySet, *, at=None) -> QuerySet[Organization]:
    """The customer table's computed columns as correlated subqueries: contact email, invitation
    status, trial end, number of subscriptions in force.

    Scale: nothing here is joined or grouped, so PostgreSQL evaluates the subqueries only for the
    rows ORDER BY … LIMIT keeps (the page), and the paginator's COUNT(*) drops them (Django
    leaves out unused annotations). None of these columns is sortable for that reason."""
    from django.db.models import CharField, Count, DateTimeField, F, Subquery
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    at = at or timezone.now()
    invitations = _contact_invitations(OuterRef("pk"))
    invitation_status = Case(
        When(status=Invitation.Status.PENDING, expires_at__lte=at, then=Value(Invitation.Status.EXPIRED)),
        default=F("status"),
        output_field=CharField(),
    )
    trials = _trials_in_force(OuterRef("pk"), at).order_by("-ends_at")
    paid = _paid_subscriptions_in_force(OuterRef("pk"), at).order_by().values("organization")
    return queryset.annotate(
        contact_email=Coalesce(
            Subquery(invitations.values("email")[:1]),
            Subquery(_owner_memberships(OuterRef("pk")).values("user__email")[:1]),
            output_field=CharField(),
        ),
        invitation_status=Subquery(invitations.annotate(current=invitation_status).values("current")[:1]),
        trial_ends_at=Subquery(trials.values("ends_at")[:1], output_field=DateTimeField()),
        subscription_count=Coalesce(
            Subquery(paid.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0)
        ),
    )


# The fields of a row of the customer table's page (`customer_table_rows`).
CUSTOMER_ROW_FIELDS = (
    "id",
    "name",
    "public_id",
    "city",
    "country",
    "status",
    "contact_email",
    "invitation_status",
    "trial_ends_at",
    "subscription_count",
)
# The numbers of ids a statement is compiled for (the table's page sizes).
CUSTOMER_ROW_BATCHES = (25, 50, 100)


@functools.lru_cache(maxsize=8)
def _customer_rows_statement(alias: str, size: int) -> CompiledStatement:
    """`customer_table_columns` for `size` ids, compiled once per process, database and page size
    (`portal.statements`): building and compiling its five subqueries cost twice as much as
    running them (issue 13). Each request puts its moment and ids in place of the stand-ins."""

    def build(ids, at):
        queryset = customer_table_columns(Organization.objects.using(alias).filter(pk__in=ids), at=at)
        return queryset.values_list(*CUSTOMER_ROW_FIELDS).query.sql_with_params()

    # prepared (portal.statements): rows by their ids, the same plan for any page of any partner
    return CompiledStatement.compile(build, using=alias, prepared=True, ids=stand_in_ids(size), at=STAND_IN_MOMENT)


def _aware(value):
    """A timestamp as the ORM would return it (SQLite gives text from a raw cursor)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def customer_table_rows(ids, *, using: str = "default", at=None) -> list[dict]:
    """The customer table's rows for the page's organization `ids`, in that order: dicts with
    `CUSTOMER_ROW_FIELDS` (`country` as its code) – what `customer_table_columns` computes, run
    as a statement compiled once (`_customer_rows_statement`), without model instances."""
    ids = list(ids)
    if not ids:
        return []
    at = at or timezone.now()
    # One statement per page size: a shorter list repeats its last id (an IN list ignores that).
    size = next((batch for batch in CUSTOMER_ROW_BATCHES if batch >= len(ids)), len(ids))
    padded = ids + ids[-1:] * (size - len(ids))
    rows = _customer_rows_statement(using, size).fetchall(ids=padded, at=at)
    by_id = {}
    for row in rows:
        record = dict(zip(CUSTOMER_ROW_FIELDS, row, strict=True))
        record["country"] = record["country"] or ""
        record["trial_ends_at"] = _aware(record["trial_ends_at"])
        record["subscription_count"] = record["subscription_count"] or 0
        by_id[record["id"]] = record
    return [by_id[pk] for pk in ids if pk in by_id]


def customer_table_search(queryset: QuerySet, term: str) -> QuerySet:
    """The table's search: name or identifier (as everywhere), VAT ID, or the contact's email –
    each only where `term` can be one (`_organization_search_q`; a VAT ID's shape; emails when
    `term` has no space, as no email address has).

    A term with a space ("Customer 00042", "Müller GmbH") can only be a name or a VAT ID in
    groups: its conditions go on the rows of `queryset`, the partner's customers, tested in the
    same pass that filters and sorts them (issue 13: it was an id set of every organization of
    the database, each tested four ways, without pg_trgm a scan of them all). Otherwise each way
    of matching is its own id set, read by its index (trigram indexes on the name and the emails
    where PostgreSQL has pg_trgm): an OR of a name condition on the row with the email sets would
    test the name of every customer, the index unused."""
    from .roles import OrgRole

    term = search_term(term)
    if not term:
        return queryset
    condition = _organization_search_q(term)
    vat_id = term.replace(" ", "").upper()
    if VAT_ID_SHAPE.fullmatch(vat_id) and any(character.isdigit() for character in vat_id):
        condition |= Q(vat_id=vat_id)
    if any(character.isspace() for character in term):
        return queryset.filter(condition)
    email = term.lower()
    by_org = Organization.objects.filter(condition).values("pk")
    by_invitation = Invitation.objects.filter(role=OrgRole.OWNER, email__icontains=email).values("organization_id")
    by_owner = Membership.objects.filter(role=OrgRole.OWNER, user__email__icontains=email).values("organization_id")
    return queryset.filter(Q(pk__in=by_org) | Q(pk__in=by_invitation) | Q(pk__in=by_owner))


# The filters trust the stored flags unless more than this many organizations' flags are stale
# (the refresh job stopped): then they test every customer's subscriptions.
STALE_SUBSCRIPTION_FLAGS_MAX = 500


@functools.lru_cache(maxsize=4)
def _stale_subscription_flags_statement(alias: str, most: int) -> CompiledStatement:
    """`_stale_subscription_flags`' query for up to `most` + 1 ids, compiled once per database and
    maximum (`portal.statements`; the LIMIT is written into the SQL, so a changed maximum is a
    statement of its own): it runs before every filtered page of the customer table."""
    from django.apps import apps

    SubscriptionChange = apps.get_model("billing", "SubscriptionChange")

    def build(at):
        changed = SubscriptionChange.objects.using(alias).order_by().values_list("organization_id", flat=True)
        expired = (
            Organization.objects.using(alias)
            .filter(subscription_flags_valid_until__lte=at)
            .order_by()
            .values_list("pk", flat=True)
        )
        return changed.union(expired)[: most + 1].query.sql_with_params()

    return CompiledStatement.compile(build, using=alias, at=STAND_IN_MOMENT)


def _stale_subscription_flags(at, using: str = "default") -> list[int] | None:
    """The organizations whose stored subscription flags are not current at `at`: a change of
    their subscriptions is recorded since (`billing.SubscriptionChange`) or their time has passed
    (`subscription_flags_valid_until`). None when there are more than the maximum. One query."""
    most = STALE_SUBSCRIPTION_FLAGS_MAX
    ids = [pk for (pk,) in _stale_subscription_flags_statement(using, most).fetchall(at=at)]
    return None if len(ids) > most else ids


def customer_subscription_q(kind: str, wanted: bool, *, at=None, using: str = "default") -> Q:
    """Q: the customer has (`wanted`) or has not a trial (`kind` "trial") or a paid subscription
    (`kind` "paid") in force at `at` – the customer table's filters (issue 16).

    The stored flag (`Organization.has_trial_in_force`, `has_subscription_in_force`) answers for
    every organization whose flags are current; the few others (`_stale_subscription_flags`, read
    first: until the minute job has run) are tested by their subscriptions. Issue 13: "has none"
    found nobody among 10,000 customers by probing each one's subscriptions (16 ms); the flag's
    index yields the candidates directly."""
    from django.utils import timezone

    at = at or timezone.now()
    flag = "has_trial_in_force" if kind == "trial" else "has_subscription_in_force"
    stale = _stale_subscription_flags(at, using)
    if stale == []:
        return Q(**{flag: wanted})
    in_force = (_trials_in_force if kind == "trial" else _paid_subscriptions_in_force)(OuterRef("pk"), at)
    if stale is None:
        return Q(Exists(in_force)) if wanted else ~Q(Exists(in_force))
    # Restricted to the stale ones, so that whatever plan PostgreSQL picks for a subquery in an OR
    # (a hash of its rows), it reads their subscriptions only, not the platform's.
    tested = Exists(in_force.filter(organization__in=stale))
    return (Q(**{flag: wanted}) & ~Q(pk__in=stale)) | (Q(pk__in=stale) & (Q(tested) if wanted else ~Q(tested)))


def customer_assigned_to_q(membership: Membership) -> Q:
    return Q(Exists(StaffAssignment.objects.filter(customer=OuterRef("pk"), membership=membership)))


def assignable_staff(partner: Organization | int) -> QuerySet[Membership]:
    """The partner's Members/Guests, who reach a customer only when assigned (ORG-11)."""
    return (
        Membership.objects.filter(organization=partner, role__in=list(PARTNER_ROLES_NEEDING_ASSIGNMENT))
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email", "id")
    )


STAFF_NAME_FIELDS = ("pk", "user__first_name", "user__last_name", "user__email")


@functools.lru_cache(maxsize=8)
def _assignable_staff_statement(alias: str, most: int) -> CompiledStatement:
    """The first `most` of `assignable_staff`, compiled once per database and maximum and prepared
    (`portal.statements`: the same plan for every partner)."""

    def build(organization):
        people = assignable_staff(organization).using(alias).values_list(*STAFF_NAME_FIELDS)
        return people[:most].query.sql_with_params()

    return CompiledStatement.compile(build, using=alias, prepared=True, organization=STAND_IN_ID)


def assignable_staff_choices(partner: Organization, *, most: int, using: str = "default") -> list[tuple[int, str]]:
    """(membership id, name or email) of the first `most` of `assignable_staff(partner)`: the
    options of the customer table's staff filter, on every page of it (issue 13: building the
    query cost more than running it)."""
    rows = _assignable_staff_statement(using, most).fetchall(organization=partner.pk)
    return [(pk, User.label_of(first, last, email)) for pk, first, last, email in rows]


def customers_by_identifier(*, context, identifiers, status: str = Organization.Status.ACTIVE) -> list[Organization]:
    """The customers among `identifiers` the user reaches in the partner org (bulk actions);
    unknown or foreign identifiers are left out, never an error that would tell they exist."""
    wanted = {str(value).strip().upper() for value in identifiers if str(value).strip()}
    if not wanted:
        return []
    return list(customer_list(context=context, status=status).filter(public_id__in=wanted))


DUPLICATE_LIMIT = 10


def customer_duplicates(*, partner: Organization, name: str, vat_id: str, contact_email: str) -> list[dict]:
    """Possible duplicates of a customer about to be created (issue 16): the partner's customers
    (any status) with the same name (any case), the same VAT ID or the same contact email; and
    whether an organization that is not this partner's customer has the VAT ID (never named: it is
    not the partner's to see). At most `DUPLICATE_LIMIT` matches per reason; 4 queries."""
    own = Organization.objects.filter(Exists(active_reseller_relations(OuterRef("pk")).filter(partner=partner)))
    matches: dict[int, dict] = {}

    def collect(queryset, reason):
        for organization in queryset.order_by("name", "id")[:DUPLICATE_LIMIT]:
            entry = matches.setdefault(
                organization.pk,
                {
                    "identifier": organization.public_id,
                    "name": organization.name,
                    "status": organization.status,
                    "reasons": [],
                },
            )
            entry["reasons"].append(reason)

    name = (name or "").strip()
    vat_id = (vat_id or "").strip()
    email = (contact_email or "").strip().lower()
    if name:
        collect(own.alias(name_lower=Lower("name")).filter(name_lower=name.lower()), "name")
    if vat_id:
        collect(own.filter(vat_id=vat_id), "vat_id")
    if email:
        collect(own.filter(customer_contact_email_q_exact(email)), "contact_email")
    result = list(matches.values())
    if vat_id and Organization.objects.filter(vat_id=vat_id).exclude(pk__in=own.values("pk")).exists():
        result.append({"identifier": None, "name": None, "status": None, "reasons": ["vat_id_elsewhere"]})
    return result


def customer_contact_email_q_exact(email: str) -> Q:
    return Q(Exists(_contact_invitations(OuterRef("pk")).filter(email=email))) | Q(
        Exists(_owner_memberships(OuterRef("pk")).filter(user__email__iexact=email))
    )


def customer_exports(*, context):
    """The customer-table exports the user asked for in this partner org (issue 16): an export
    holds what its requester may see, so nobody else gets it, not even the org's Owner."""
    from .models import CustomerExport

    return CustomerExport.objects.filter(organization=context.organization, requested_by=context.user)
