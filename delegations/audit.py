"""Audit actions of caretaker delegations (see `portal.audit`)."""

from django.utils.translation import gettext_lazy as _

from portal.audit import AuditField, audit_action, audit_fields

from .models import Delegation

audit_fields(
    status=AuditField(_("status")),
    caretaker=AuditField(_("caretaker")),
    invited_email=AuditField(_("invited email")),
    ends_at=AuditField(_("ends"), kind="datetime"),
    blocked_organization=AuditField(_("blocked organization")),
)

DELEGATION = {"actor": ("status", "caretaker", "invited_email", "ends_at"), "values": {"status": Delegation.Status}}

audit_action(
    "delegation.requested",
    label=_("Delegation requested"),
    sentence=_("{actor_org} asked to take care of {target}."),
    **DELEGATION,
)
audit_action(
    "delegation.released",
    label=_("Delegation offered"),
    sentence=_("{actor_org} offered the care of {target}."),
    **DELEGATION,
)
audit_action(
    "delegation.accepted",
    label=_("Delegation accepted"),
    sentence=_("{actor_org} accepted the delegation {target}."),
    **DELEGATION,
)
audit_action(
    "delegation.declined",
    label=_("Delegation declined"),
    sentence=_("{actor_org} declined the delegation {target}."),
    **DELEGATION,
)
audit_action(
    "delegation.cancelled",
    label=_("Delegation cancelled"),
    sentence=_("{actor_org} cancelled the delegation {target}."),
    **DELEGATION,
)
audit_action(
    "delegation.revoked",
    label=_("Delegation revoked"),
    sentence=_("{actor_org} revoked the delegation {target}."),
    **DELEGATION,
)
audit_action(
    "delegation.expired",
    label=_("Delegation expired"),
    sentence=_("The delegation {target} expired."),
    **DELEGATION,
)

# The blocked requester's identifier is the owner's own decision: its own trail shows it; there
# is no other party (the requester is never told it was blocked).
BLOCK = {"actor": ("blocked_organization",), "other_party": ()}
audit_action(
    "delegation_requester.blocked",
    label=_("Requester blocked"),
    sentence=_("{actor_org} blocked an organization from requesting the care of its projects."),
    **BLOCK,
)
audit_action(
    "delegation_requester.unblocked",
    label=_("Requester unblocked"),
    sentence=_("{actor_org} unblocked an organization from requesting the care of its projects."),
    **BLOCK,
)
