"""Organization roles and what each may do: the one table the UI, API, admin and tests read.

A capability is granted by role, limited to kinds of organization, and may be *partner-only*
(ORG-6): in a customer org linked to a reseller, partner-only capabilities belong to the partner's
staff alone, never to the customer's own accounts (Owners included).

A capability may also be a *consent* (issue 11, item 4): a decision the portal asks of the org
itself – accepting an offer, a delegation request or a connection request. Consent comes only
from a direct membership: partner staff acting inside a linked customer never hold it, whatever
role they act with there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")
    GUEST = "guest", _("Guest")


class OrgKind(models.TextChoices):
    PARTNER = "partner", _("Partner")
    CUSTOMER = "customer", _("Customer")


O, A, M, G = OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER, OrgRole.GUEST
ALL_ROLES = frozenset({O, A, M, G})
MANAGERS = frozenset({O, A})

# Roles ordered by power, for "at least" comparisons and for invitations (nobody grants above own).
ROLE_RANK = {G: 0, M: 1, A: 2, O: 3}


@dataclass(frozen=True)
class Capability:
    roles: frozenset
    kinds: frozenset = frozenset({OrgKind.PARTNER, OrgKind.CUSTOMER})
    partner_only: bool = False  # ORG-6 gate: hidden from customer accounts in partner-linked orgs
    consent: bool = False  # never held by partner staff acting inside a customer (direct members only)


CAPABILITIES: dict[str, Capability] = {
    "organization.view": Capability(ALL_ROLES),
    "organization.change": Capability(MANAGERS),
    "organization.archive": Capability(frozenset({O})),
    "members.view": Capability(ALL_ROLES),
    "members.invite": Capability(MANAGERS),
    "members.manage": Capability(MANAGERS),
    "members.manage_owners": Capability(frozenset({O})),
    # The Open requests page and its lists; deciding is a consent of the org's own managers.
    "requests.view": Capability(MANAGERS),
    "requests.decide": Capability(MANAGERS, consent=True),  # connection and delegation requests
    "customer_relation.end": Capability(MANAGERS, kinds=frozenset({OrgKind.CUSTOMER})),  # end own reseller
    "audit.view": Capability(MANAGERS),
    "projects.create": Capability(MANAGERS),
    "delegations.manage": Capability(MANAGERS),
    # partner org only
    "customers.view": Capability(frozenset({O, A, M}), kinds=frozenset({OrgKind.PARTNER})),
    "customers.manage": Capability(MANAGERS, kinds=frozenset({OrgKind.PARTNER})),
    "staff.assign": Capability(MANAGERS, kinds=frozenset({OrgKind.PARTNER})),
    "support_contact.change": Capability(MANAGERS, kinds=frozenset({OrgKind.PARTNER})),
    "offer_templates.manage": Capability(MANAGERS, kinds=frozenset({OrgKind.PARTNER})),
    "offers.send": Capability(MANAGERS, kinds=frozenset({OrgKind.PARTNER})),
    # offers: partners see what they sent, customers what they received (read-only for every role)
    "offers.view": Capability(ALL_ROLES),
    "offers.decide": Capability(MANAGERS, kinds=frozenset({OrgKind.CUSTOMER}), consent=True),
    "webhooks.manage": Capability(MANAGERS, kinds=frozenset({OrgKind.CUSTOMER})),
    # ORG-6 partner-only areas
    "billing.view": Capability(MANAGERS, partner_only=True),
    "billing.manage": Capability(MANAGERS, partner_only=True),
    "payment_methods.manage": Capability(MANAGERS, partner_only=True),
    # BIL-8: the invoices addressed to the org itself stay readable by its managers for the
    # retention period, also once it is partner-linked (the restriction never shows a customer
    # what its partner pays: invoices addressed to the partner need "billing.view").
    "invoices.view": Capability(MANAGERS),
    "support_settings.manage": Capability(MANAGERS, partner_only=True),
    # The reusable ORG-6 gate: any role, but only where partner-only areas are visible at all
    # (partner staff in a linked customer, or a direct customer's own accounts).
    "partner_area": Capability(ALL_ROLES, partner_only=True),
}

# How a partner's staff act inside a linked customer org (ORG-4, ORG-11): Owners/Admins reach
# every linked customer as Admin; Members and Guests only customers they are assigned to.
PARTNER_ROLE_IN_CUSTOMER = {O: A, A: A, M: M, G: G}
PARTNER_ROLES_NEEDING_ASSIGNMENT = frozenset({M, G})


def role_has_capability(role: str | None, capability: str, *, org_kind: str) -> bool:
    """Pure table lookup, without the ORG-6 gate (see `portal.tenancy.OrgContext.has`)."""
    spec = CAPABILITIES[capability]
    return role is not None and role in spec.roles and org_kind in spec.kinds


def is_consent(capability: str) -> bool:
    """True for decisions only the org's own accounts make (never partner staff acting inside)."""
    return CAPABILITIES[capability].consent


def roles_with_capability(capability: str) -> frozenset:
    return CAPABILITIES[capability].roles


# --- ORG-5: who may grant and manage which role ------------------------------------------------


def can_grant_role(actor_role: str | None, role: str, *, organization_has_owner: bool = True) -> bool:
    """Nobody grants a role above their own; only Owners grant Owner.

    An org without any Owner yet (a customer org being onboarded, ORG-2) may get its first Owner
    from whoever may invite there – partner staff act in customer orgs as Admins.
    """
    if actor_role not in ROLE_RANK or role not in ROLE_RANK:
        return False
    if role == O and not organization_has_owner:
        return True
    return ROLE_RANK[role] <= ROLE_RANK[actor_role]


def can_manage_member(actor_role: str | None, member_role: str) -> bool:
    """Change or remove a member holding `member_role`: only Owners manage Owners, nobody manages
    a member above their own rank."""
    if actor_role not in ROLE_RANK or member_role not in ROLE_RANK:
        return False
    return ROLE_RANK[member_role] <= ROLE_RANK[actor_role]


def grantable_roles(actor_role: str | None, *, organization_has_owner: bool = True) -> list[str]:
    """The roles `actor_role` may grant, strongest first (for forms and the API's choices)."""
    return [
        role
        for role in sorted(ROLE_RANK, key=ROLE_RANK.get, reverse=True)
        if can_grant_role(actor_role, role, organization_has_owner=organization_has_owner)
    ]
