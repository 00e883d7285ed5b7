"""The tenancy choke point: where a request acts, with which role, and what it may see.

Every browser view (`portal.views.OrgScopedMixin`) and every API viewset
(`portal.api.viewsets.ScopedViewSet`) goes through this module:

1. `org_context_for(user, public_id)` resolves the organization named in the URL and the user's
   *effective* role there: a direct membership, or partner staff reaching a linked customer org
   (ORG-4) – Owners/Admins every linked customer, Members/Guests only assigned ones (ORG-11).
   Anything else is `NotFound`, so a foreign org is indistinguishable from a missing one.
   `reach_q` is the same rule in SQL and `capability_q` the SQL form of `OrgContext.has`: every
   cross-org restriction builds on them instead of writing the rule again; `active_reseller_of`
   is the one lookup of a customer's reseller.
2. `OrgContext.has(capability)` / `require(capability)` read the role table
   (`organizations.roles.CAPABILITIES`) and apply the ORG-6 partner-only gate and the consent
   gate (consent capabilities are never held by partner staff acting inside a customer).
3. `restrict(queryset, scope, action)` narrows a queryset to the rows this user may see, using the
   restriction each model registers with `@restriction(Model)`. A model without a registered
   restriction cannot be listed through the base classes at all (ImproperlyConfigured), so no view
   can forget the filter.

All of it runs a constant number of queries, independent of the number of orgs or customers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from operator import or_

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.utils.translation import gettext as _

from organizations.models import CustomerRelation, Membership, Organization, StaffAssignment
from organizations.roles import (
    CAPABILITIES,
    PARTNER_ROLE_IN_CUSTOMER,
    PARTNER_ROLES_NEEDING_ASSIGNMENT,
    OrgKind,
    OrgRole,
    role_has_capability,
)

from .errors import NotFound, PermissionDenied
from .statements import STAND_IN_ID, CompiledQuery


def consent_refusal_message() -> str:
    """The 403 message for a consent asked of partner staff (translated when raised)."""
    return _("Only the customer's own Owners and Admins can decide this.")


@dataclass
class OrgContext:
    """The organization a request acts in and the acting user's effective role there."""

    organization: Organization
    user: object
    role: str
    # Set when partner staff act inside a linked customer org (the page shows a notice, ORG-4).
    via_partner: Organization | None = None
    # The customer's active reseller (None for partner orgs and direct customers).
    reseller: Organization | None = None
    membership: Membership | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def acting_as_partner(self) -> bool:
        return self.via_partner is not None

    @property
    def is_partner_linked(self) -> bool:
        return self.reseller is not None

    def has(self, capability: str) -> bool:
        """Role table lookup plus the ORG-6 gate (partner-only areas of linked customers) and the
        consent gate (a customer's consent comes from its own accounts, never its partner's staff)."""
        if not role_has_capability(self.role, capability, org_kind=self.organization.kind):
            return False
        spec = CAPABILITIES[capability]
        if spec.partner_only and self.is_partner_linked and not self.acting_as_partner:
            return False
        if spec.consent and self.acting_as_partner:
            return False
        return True

    def consent_withheld(self, capability: str) -> bool:
        """True where the role would allow `capability` but it is a consent and this user acts as
        partner staff: pages show a note instead of the buttons."""
        return (
            CAPABILITIES[capability].consent
            and self.acting_as_partner
            and role_has_capability(self.role, capability, org_kind=self.organization.kind)
        )

    def hides(self, capability: str) -> bool:
        """True where the capability's area must not even be shown to exist (answer 404)."""
        spec = CAPABILITIES[capability]
        if spec.partner_only and self.is_partner_linked and not self.acting_as_partner:
            return True
        return self.organization.kind not in spec.kinds

    def require(self, capability: str) -> None:
        """Raise unless the capability is held: 404 for hidden areas (ORG-6), else 403."""
        if self.has(capability):
            return
        if self.hides(capability):
            raise NotFound(_("Not found."))
        if self.consent_withheld(capability):
            raise PermissionDenied(consent_refusal_message(), code="customer_decides")
        raise PermissionDenied(_("Your role in this organization does not allow this."))

    @property
    def role_label(self) -> str:
        return str(OrgRole(self.role).label)

    @property
    def acting_organization(self) -> Organization:
        """The org the user acts from: the partner for partner staff inside a linked customer, else
        the org itself (an audit event's `acting_organization`). `via_partner` is the same org only
        where it differs from `organization`."""
        return self.via_partner or self.organization


def _active_org_or_404(public_id: str) -> Organization:
    organization = Organization.objects.filter(public_id=str(public_id).upper(), status="active").first()
    if organization is None:
        raise NotFound(_("Not found."))
    return organization


_STAND_IN_PUBLIC_ID = "ORG-STAND-IN-7000001"


@lru_cache(maxsize=4)
def _membership_of_org(using: str) -> CompiledQuery:
    """The user's membership of the active org with that identifier, with the org: compiled once
    per process and prepared (`portal.statements`; one row by two unique keys, the same plan for
    everyone), as every org page asks it first (issue 13)."""

    def build(user, public_id):
        return (
            Membership.objects.using(using)
            .select_related("organization")
            .filter(user=user, organization__public_id=public_id, organization__status=Organization.Status.ACTIVE)
            .order_by()
        )

    return CompiledQuery.compile(build, using=using, prepared=True, user=STAND_IN_ID, public_id=_STAND_IN_PUBLIC_ID)


def org_context_for(user, public_id: str) -> OrgContext:
    """Resolve the org named in the URL for `user`; `NotFound` if the user may not act there."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_("Not found."))
    # Most requests come from a member of the org: one query finds the org and the membership
    # (every org page runs this, issue 13); anyone else goes the full way.
    found = _membership_of_org(DEFAULT_DB_ALIAS).fetch(0, 1, user=user.pk, public_id=str(public_id).upper())
    membership = next(iter(found), None)
    if membership is not None:
        return org_context_for_organization(user, membership.organization, membership=membership)
    organization = _active_org_or_404(public_id)
    return org_context_for_organization(user, organization, membership=None)


def active_reseller_relations(customer) -> QuerySet[CustomerRelation]:
    """The active relation(s) naming `customer`'s reseller (at most one: a partial unique index).

    `customer` is an org, its pk or an `OuterRef`, so the same rule serves `.first()` and EXISTS.
    """
    return CustomerRelation.objects.filter(customer=customer, status=CustomerRelation.Status.ACTIVE)


def active_reseller_relation(customer) -> CustomerRelation | None:
    """The active relation of `customer` (an org or its pk) with its partner loaded, or None
    (direct customers, partners). Every page of a customer org asks it (`org_context_for`): read
    by a statement compiled once per process and prepared (issue 13: built with the ORM it cost
    more than the rest of the org's context)."""
    pk = customer.pk if isinstance(customer, Organization) else customer
    found = _reseller_relation_of(DEFAULT_DB_ALIAS).fetch(0, 1, customer=pk)
    return next(iter(found), None)


@lru_cache(maxsize=4)
def _reseller_relation_of(using: str) -> CompiledQuery:
    def build(customer):
        return active_reseller_relations(customer).using(using).select_related("partner").order_by("pk")

    return CompiledQuery.compile(build, using=using, prepared=True, customer=STAND_IN_ID)


def active_reseller_of(customer) -> Organization | None:
    """The active reseller partner of `customer` (whatever the partner's own status), or None."""
    relation = active_reseller_relation(customer)
    return relation.partner if relation is not None else None


_UNKNOWN = object()


def org_context_for_organization(user, organization: Organization, *, membership=_UNKNOWN) -> OrgContext:
    """`membership`: the user's membership of `organization` when the caller has read it already
    (None: it has none)."""
    reseller = active_reseller_of(organization) if organization.kind == OrgKind.CUSTOMER else None

    if membership is _UNKNOWN:
        membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is not None:
        return OrgContext(organization, user, membership.role, reseller=reseller, membership=membership)

    if reseller is not None and reseller.status == Organization.Status.ACTIVE:
        partner_membership = Membership.objects.filter(user=user, organization=reseller).first()
        if partner_membership is not None:
            needs_assignment = partner_membership.role in PARTNER_ROLES_NEEDING_ASSIGNMENT
            if (
                not needs_assignment
                or StaffAssignment.objects.filter(membership=partner_membership, customer=organization).exists()
            ):
                return OrgContext(
                    organization,
                    user,
                    PARTNER_ROLE_IN_CUSTOMER[partner_membership.role],
                    via_partner=reseller,
                    reseller=reseller,
                    membership=partner_membership,
                )
    raise NotFound(_("Not found."))


# --- The reach rule in SQL ----------------------------------------------------------------------


def reach_q(
    user,
    *,
    prefix: str = "",
    roles: Collection[str] | None = None,
    direct: bool = True,
    via_partner: bool = True,
    direct_only_unlinked: bool = False,
) -> Q:
    """The SQL form of `org_context_for_organization`: a Q over Organization (or, with `prefix`
    such as "organization__", over a model pointing at one) matching the orgs where `user`'s
    *effective* role is one of `roles` (any role when None).

    - direct: a membership of the org (`direct_only_unlinked`: only orgs without an active
      reseller – the ORG-6 gate of partner-only capabilities);
    - via_partner: staff of the org's active, itself active reseller, acting with
      `PARTNER_ROLE_IN_CUSTOMER` – Owners/Admins in every linked customer, Members/Guests in the
      customers they are assigned to (ORG-11). As in the resolved context, a direct membership
      wins: with `roles` given, partner staff who are also members act with their own role.

    Each branch is one EXISTS on an indexed key (user, org), so the cost is one query whatever the
    number of orgs; every restriction and the switcher build on it rather than writing the rule again.
    """
    org = OuterRef(f"{prefix}pk")
    memberships = Membership.objects.filter(user=user, organization=org)
    branches: list[Q] = []
    if direct:
        own = memberships if roles is None else memberships.filter(role__in=list(roles))
        branch = Q(Exists(own))
        if direct_only_unlinked:
            branch &= ~Q(Exists(active_reseller_relations(org)))
        branches.append(branch)
    if via_partner:
        partner_roles = [r for r, acting in PARTNER_ROLE_IN_CUSTOMER.items() if roles is None or acting in roles]
        wide = [r for r in partner_roles if r not in PARTNER_ROLES_NEEDING_ASSIGNMENT]
        assigned = [r for r in partner_roles if r in PARTNER_ROLES_NEEDING_ASSIGNMENT]
        partner_branches: list[Q] = []
        if wide:
            partner_wide = active_reseller_relations(org).filter(
                partner__status=Organization.Status.ACTIVE,
                partner__memberships__user=user,
                partner__memberships__role__in=wide,
            )
            partner_branches.append(Q(Exists(partner_wide)))
        if assigned:
            partner_assigned = StaffAssignment.objects.filter(
                customer=org,
                membership__user=user,
                membership__role__in=assigned,
                membership__organization__status=Organization.Status.ACTIVE,
                membership__organization__customer_relations__customer=org,
                membership__organization__customer_relations__status=CustomerRelation.Status.ACTIVE,
            )
            partner_branches.append(Q(Exists(partner_assigned)))
        if partner_branches:
            branch = reduce(or_, partner_branches)
            if roles is not None:
                branch &= ~Q(Exists(memberships))
            branches.append(branch)
    return reduce(or_, branches) if branches else Q(pk__in=[])


def reach_ids(
    user,
    *,
    roles: Collection[str] | None = None,
    direct: bool = True,
    via_partner: bool = True,
    direct_only_unlinked: bool = False,
) -> QuerySet:
    """The indexed form of `reach_q`: the ids of the orgs it matches, as one UNION subquery.

    Each access path starts from the user's own rows (memberships by the (user, org) key,
    relations by partner, assignments by membership), so the cost grows with what the user
    reaches, never with the number of orgs. Use it as `organization_id__in=reach_ids(...)`
    where `reach_q`'s OR of EXISTS would make the planner scan the whole outer table.
    Org status is not checked here (as in `reach_q`): callers filter the org they join.
    """
    memberships = Membership.objects.filter(user=user)
    not_a_member = ~Q(Exists(memberships.filter(organization=OuterRef("customer_id"))))
    parts: list[QuerySet] = []
    if direct:
        own = memberships if roles is None else memberships.filter(role__in=list(roles))
        if direct_only_unlinked:
            own = own.filter(~Q(Exists(active_reseller_relations(OuterRef("organization_id")))))
        parts.append(own.order_by().values("organization_id"))
    if via_partner:
        partner_roles = [r for r, acting in PARTNER_ROLE_IN_CUSTOMER.items() if roles is None or acting in roles]
        wide = [r for r in partner_roles if r not in PARTNER_ROLES_NEEDING_ASSIGNMENT]
        assigned = [r for r in partner_roles if r in PARTNER_ROLES_NEEDING_ASSIGNMENT]
        if wide:
            partner_wide = CustomerRelation.objects.filter(
                status=CustomerRelation.Status.ACTIVE,
                partner__status=Organization.Status.ACTIVE,
                partner__in=memberships.filter(role__in=wide).values("organization_id"),
            )
            if roles is not None:
                partner_wide = partner_wide.filter(not_a_member)
            parts.append(partner_wide.order_by().values("customer_id"))
        if assigned:
            partner_assigned = StaffAssignment.objects.filter(
                membership__in=memberships.filter(
                    role__in=assigned, organization__status=Organization.Status.ACTIVE
                ).values("pk"),
                customer__reseller_relations__status=CustomerRelation.Status.ACTIVE,
                customer__reseller_relations__partner=F("membership__organization"),
            )
            if roles is not None:
                partner_assigned = partner_assigned.filter(not_a_member)
            parts.append(partner_assigned.order_by().values("customer_id"))
    if not parts:
        return Organization.objects.none().values("pk")
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class MembershipRow:
    """One of the user's memberships with its org's status (see `memberships_of`)."""

    pk: int
    organization_id: int
    role: str
    organization_active: bool
    organization_is_partner: bool


def memberships_of(user) -> list[MembershipRow]:
    """The user's memberships, loaded in one small query (a user belongs to a handful of orgs)."""
    rows = Membership.objects.filter(user=user).values_list(
        "pk", "organization_id", "role", "organization__status", "organization__kind"
    )
    return [
        MembershipRow(pk, org, role, status == Organization.Status.ACTIVE, kind == OrgKind.PARTNER)
        for pk, org, role, status, kind in rows
    ]


@dataclass(frozen=True)
class LoadedReach:
    """`reach_ids` from loaded memberships: the orgs reached directly as literal ids, the customers
    reached as partner staff as one-table subqueries (`CustomerRelation` by partner, `StaffAssignment`
    by membership). Literal keys instead of joins through the memberships: planned in a fraction of
    a millisecond and estimated from the real keys (issue 13: a project list for a user with one
    grant spent ~20 ms planning the joined form). `wide` is True when a partner Owner/Admin path is
    present in a partner org: the reach may then be every customer of a partner."""

    direct_ids: tuple[int, ...] = ()
    partner_sources: tuple[QuerySet, ...] = ()
    wide: bool = False

    @property
    def empty(self) -> bool:
        return not self.direct_ids and not self.partner_sources


def reach_loaded(
    memberships: list[MembershipRow],
    *,
    roles: Collection[str] | None = None,
    direct: bool = True,
    via_partner: bool = True,
) -> LoadedReach:
    """The same orgs as `reach_ids(user, roles=…, direct=…, via_partner=…)`, from `memberships_of(user)`."""
    direct_ids: list[int] = []
    sources: list[QuerySet] = []
    wide_found = False
    if direct:
        direct_ids = [m.organization_id for m in memberships if roles is None or m.role in roles]
    if via_partner:
        partner_roles = [r for r, acting in PARTNER_ROLE_IN_CUSTOMER.items() if roles is None or acting in roles]
        member_of = [m.organization_id for m in memberships]
        active = [m for m in memberships if m.organization_active and m.role in partner_roles]
        wide_members = [m for m in active if m.role not in PARTNER_ROLES_NEEDING_ASSIGNMENT]
        wide_partners = [m.organization_id for m in wide_members]
        assigned = [m for m in active if m.role in PARTNER_ROLES_NEEDING_ASSIGNMENT]
        if wide_partners:
            wide_found = any(m.organization_is_partner for m in wide_members)
            relations = CustomerRelation.objects.filter(
                status=CustomerRelation.Status.ACTIVE, partner_id__in=wide_partners
            ).order_by()
            if roles is not None:  # a direct membership wins (see reach_q)
                relations = relations.exclude(customer_id__in=member_of)
            sources.append(relations.values("customer_id"))
        if assigned:
            # Each assignment counts only through its own partner's active relation (ORG-11),
            # tested per assignment: a scalar subquery by the relation's (partner, customer) key.
            # As `customer_id IN (the partner's active relations)` PostgreSQL (default costs)
            # hashed all 10,000 relations of a partner to test a Member's 100 assignments: 1.9 ms
            # against 0.5 ms (issue 13); a scalar subquery is never turned into a join.
            by_membership = reduce(
                or_,
                (
                    Q(membership_id=m.pk)
                    & Q(
                        IsNull(
                            Subquery(
                                CustomerRelation.objects.filter(
                                    status=CustomerRelation.Status.ACTIVE,
                                    partner_id=m.organization_id,
                                    customer_id=OuterRef("customer_id"),
                                ).values("pk")[:1]
                            ),
                            False,
                        )
                    )
                    for m in assigned
                ),
            )
            staff = StaffAssignment.objects.filter(by_membership).order_by()
            if roles is not None:
                staff = staff.exclude(customer_id__in=member_of)
            sources.append(staff.values("customer_id"))
    return LoadedReach(tuple(direct_ids), tuple(sources), wide_found)


def capability_q(user, capability: str, *, prefix: str = "") -> Q:
    """The SQL form of `OrgContext.has`: active orgs where `user` holds `capability` – the role
    table, the org kinds, the ORG-6 gate and the consent gate, over `reach_q`."""
    spec = CAPABILITIES[capability]
    reach = reach_q(
        user,
        prefix=prefix,
        roles=spec.roles,
        via_partner=not spec.consent,
        direct_only_unlinked=spec.partner_only,
    )
    return Q(**{f"{prefix}status": Organization.Status.ACTIVE, f"{prefix}kind__in": list(spec.kinds)}) & reach


def capability_ids_q(user, capability: str, *, prefix: str = "") -> Q:
    """`capability_q` in its indexed form (`reach_ids`): `<prefix>pk IN (the orgs' ids)` – for lists
    across orgs of big tables, where the OR of EXISTS would scan every row."""
    spec = CAPABILITIES[capability]
    reach = reach_ids(user, roles=spec.roles, via_partner=not spec.consent, direct_only_unlinked=spec.partner_only)
    return Q(
        **{
            f"{prefix}status": Organization.Status.ACTIVE,
            f"{prefix}kind__in": list(spec.kinds),
            f"{prefix}pk__in": reach,
        }
    )


def reach_keys_q(reach: LoadedReach, *, prefix: str = "", direct_only_unlinked: bool = False) -> Q:
    """`reach` as hashed key sets on `<prefix>pk`: the orgs reached directly as literal ids, OR the
    partners' customers as one subquery each. For a wide reach (a partner Owner/Admin: every one of
    10,000 customers) a list in index order tests each row against these sets and stops after its
    page, where `reach_ids` first lists every org of the reach (issue 13).
    `direct_only_unlinked`: the direct orgs only without an active reseller (ORG-6)."""
    key = f"{prefix}pk"
    reached = Q(**{f"{key}__in": reach.direct_ids})
    if direct_only_unlinked:
        reached &= ~Q(Exists(active_reseller_relations(OuterRef(key))))
    for source in reach.partner_sources:
        reached |= Q(**{f"{key}__in": source})
    return reached


def capability_keys_q(user, capability: str, *, prefix: str = "") -> Q:
    """`capability_ids_q` for lists across orgs in the shape that suits the reach: hashed key sets
    (`reach_keys_q`) where it is wide, the orgs' ids first where it is a few orgs."""
    spec = CAPABILITIES[capability]
    reach = reach_loaded(memberships_of(user), roles=spec.roles, via_partner=not spec.consent)
    if not reach.wide:
        return capability_ids_q(user, capability, prefix=prefix)
    return Q(**{f"{prefix}status": Organization.Status.ACTIVE, f"{prefix}kind__in": list(spec.kinds)}) & reach_keys_q(
        reach, prefix=prefix, direct_only_unlinked=spec.partner_only
    )


def reachable_organizations_q(user, *, prefix: str = "") -> Q:
    """A Q matching every org `user` may act in (see `reach_q`; one query however many customers)."""
    return reach_q(user, prefix=prefix)


def organizations_for_user(user) -> QuerySet[Organization]:
    """Every active org `user` may act in (the switcher, `/api/v1/organizations/`)."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.active().filter(reachable_organizations_q(user))


def organizations_for_user_by_ids(user) -> QuerySet[Organization]:
    """`organizations_for_user` by the ids of the reach (`reach_ids`, an indexed UNION from the
    user's own rows) instead of `reach_q`'s EXISTS per org, which tests every org with subplans:
    for lists of the reach itself (issue 13: the switcher of a partner Member was 30x a bare page
    at 10,000 customers). Where the user's own few orgs are wanted first (the home redirect),
    `organizations_for_user` is cheaper: the planner starts from the memberships."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.active().filter(pk__in=reach_ids(user))


# --- Row-level restriction registry -------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Who asks, and in which org (None for cross-org endpoints such as `/api/v1/projects/`)."""

    user: object
    context: OrgContext | None = None


Restriction = Callable[..., QuerySet]
_RESTRICTIONS: dict[type[Model], Restriction] = {}


def restriction(model: type[Model]):
    """Register `func(queryset, *, scope, action) -> queryset` as the only way `model` is listed."""

    def register(func: Restriction) -> Restriction:
        _RESTRICTIONS[model] = func
        return func

    return register


def restrict(queryset: QuerySet, scope: Scope, action: str = "view") -> QuerySet:
    """Narrow `queryset` to what `scope` may see (or change, with action="change")."""
    if not getattr(scope.user, "is_authenticated", False):
        return queryset.none()
    func = _RESTRICTIONS.get(queryset.model)
    if func is None:
        raise ImproperlyConfigured(
            f"{queryset.model.__name__} has no tenancy restriction; register one with @restriction."
        )
    return func(queryset, scope=scope, action=action)


@restriction(Organization)
def _restrict_organizations(queryset: QuerySet, *, scope: Scope, action: str) -> QuerySet:
    if scope.context is not None:
        return queryset.filter(pk=scope.context.organization.pk)
    return queryset.filter(status=Organization.Status.ACTIVE).filter(pk__in=reach_ids(scope.user))
