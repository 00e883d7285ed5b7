"""The tenancy choke point: where a request acts, with which role, and what it may see.

Every browser view (`portal.views.OrgScopedMixin`) and every API viewset
(`portal.api.viewsets.ScopedViewSet`) goes through this module:

1. `org_context_for(user, public_id)` resolves the organization named in the URL and the user's
   *effective* role there: a direct membership, or partner staff reaching a linked customer org
   (ORG-4) – Owners/Admins every linked customer, Members/Guests only assigned ones (ORG-11).
   Anything else is `NotFound`, so a foreign org is indistinguishable from a missing one.
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

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
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


def org_context_for(user, public_id: str) -> OrgContext:
    """Resolve the org named in the URL for `user`; `NotFound` if the user may not act there."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_("Not found."))
    organization = _active_org_or_404(public_id)
    return org_context_for_organization(user, organization)


def org_context_for_organization(user, organization: Organization) -> OrgContext:
    reseller_relation = None
    if organization.kind == OrgKind.CUSTOMER:
        reseller_relation = (
            CustomerRelation.objects.filter(customer=organization, status=CustomerRelation.Status.ACTIVE)
            .select_related("partner")
            .first()
        )
    reseller = reseller_relation.partner if reseller_relation else None

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


def reachable_organizations_q(user, *, prefix: str = "") -> Q:
    """A Q over Organization (optionally via `prefix`, e.g. "organization__") matching every org
    `user` may act in: direct memberships and linked customers reached as partner staff.

    Built from EXISTS subqueries, so it costs one query however many customers a partner has.
    """
    ref = OuterRef(f"{prefix}pk") if prefix else OuterRef("pk")
    direct = Membership.objects.filter(user=user, organization=ref)
    partner_wide = CustomerRelation.objects.filter(
        customer=ref,
        status=CustomerRelation.Status.ACTIVE,
        partner__status=Organization.Status.ACTIVE,
        partner__memberships__user=user,
        partner__memberships__role__in=[OrgRole.OWNER, OrgRole.ADMIN],
    )
    assigned = StaffAssignment.objects.filter(
        customer=ref,
        membership__user=user,
        membership__role__in=list(PARTNER_ROLES_NEEDING_ASSIGNMENT),
        membership__organization__customer_relations__customer=ref,
        membership__organization__customer_relations__status=CustomerRelation.Status.ACTIVE,
    )
    return Q(Exists(direct)) | Q(Exists(partner_wide)) | Q(Exists(assigned))


def organizations_for_user(user) -> QuerySet[Organization]:
    """Every active org `user` may act in (the switcher, `/api/v1/organizations/`)."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.active().filter(reachable_organizations_q(user))


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
    return queryset.filter(status=Organization.Status.ACTIVE).filter(reachable_organizations_q(scope.user))
