"""Audit actions of organizations, memberships, customer relations, staff and invitations (ORG-10).

See `portal.audit`: each action's sentence and, per audience, the payload keys it may read.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.audit import AuditField, audit_action, audit_fields

from .models import PROFILE_FIELDS, SUPPORT_CONTACT_FIELDS, CustomerRelation, Invitation, Organization
from .roles import OrgKind, OrgRole

PROFILE = tuple(PROFILE_FIELDS)
SUPPORT_CONTACT = tuple(SUPPORT_CONTACT_FIELDS)

audit_fields(
    name=AuditField(_("name")),
    kind=AuditField(_("kind")),
    street=AuditField(_("street and number")),
    postcode=AuditField(_("postcode")),
    city=AuditField(_("city")),
    country=AuditField(_("country"), kind="country"),
    vat_id=AuditField(_("VAT ID")),
    billing_name=AuditField(_("billing name")),
    billing_street=AuditField(_("billing street and number")),
    billing_postcode=AuditField(_("billing postcode")),
    billing_city=AuditField(_("billing city")),
    billing_country=AuditField(_("billing country"), kind="country"),
    billing_email=AuditField(_("billing email")),
    billing_address_is_invoice_recipient=AuditField(_("use as invoice recipient"), kind="bool"),
    billing_buyer_reference=AuditField(_("buyer reference (Leitweg-ID)")),
    support_name=AuditField(_("support contact name")),
    support_email=AuditField(_("support email")),
    support_phone=AuditField(_("support phone")),
    support_hours=AuditField(_("support hours")),
    support_url=AuditField(_("support website")),
    logo=AuditField(_("logo")),
    status=AuditField(_("status")),
    user=AuditField(_("user")),
    role=AuditField(_("role")),
    email=AuditField(_("email")),
    expires_at=AuditField(_("expires"), kind="datetime"),
    send_count=AuditField(_("emails sent")),
    # Database ids of the relation's orgs (RELATION_FIELDS snapshot): internal, support only.
    partner=AuditField(_("partner")),
    customer=AuditField(_("customer")),
)

ORG_STATUS = {"status": Organization.Status}
MEMBER_VALUES = {"role": OrgRole}

audit_action(
    "organization.created",
    label=_("Organization created"),
    sentence=_("{actor_org} created the organization {target}."),
    actor=("name", "kind"),
    values={"kind": OrgKind},
)
audit_action(
    "organization.changed",
    label=_("Organization details changed"),
    sentence=_("{actor_org} changed the details of {target}."),
    actor=PROFILE,
)
audit_action(
    "organization.changed_by_support",
    label=_("Organization changed by support"),
    sentence=_("Support changed the details of {target}."),
    actor=(*PROFILE, *SUPPORT_CONTACT, "kind"),
    support=("logo",),
    values={"kind": OrgKind},
)
audit_action(
    "organization.kind_changed",
    label=_("Organization kind changed"),
    sentence=_("Support made {target} a {kind}."),
    actor=("kind",),
    values={"kind": OrgKind},
)
audit_action(
    "organization.support_contact_changed",
    label=_("Support contact changed"),
    sentence=_("{actor_org} changed the support contact of {target}."),
    actor=SUPPORT_CONTACT,
)
audit_action(
    "organization.logo_changed",
    label=_("Logo changed"),
    sentence=_("{actor_org} uploaded a new logo for {target}."),
    support=("logo",),
)
audit_action(
    "organization.logo_removed",
    label=_("Logo removed"),
    sentence=_("{actor_org} removed the logo of {target}."),
    support=("logo",),
)
audit_action(
    "organization.archived",
    label=_("Organization archived"),
    sentence=_("{actor_org} archived the organization {target}."),
    actor=("status",),
    values=ORG_STATUS,
)
audit_action(
    "organization.restored",
    label=_("Organization restored"),
    sentence=_("Support restored the organization {target}."),
    actor=("status",),
    values=ORG_STATUS,
)

# --- members -------------------------------------------------------------------------------------

audit_action(
    "membership.added",
    label=_("Member added"),
    sentence=_("{actor_org} added {user} as {role}."),
    actor=("user", "role"),
    values=MEMBER_VALUES,
)
audit_action(
    "membership.changed",
    label=_("Member's role changed"),
    sentence=_("{actor_org} made {user} {role}."),
    actor=("user", "role"),
    values=MEMBER_VALUES,
)
audit_action(
    "membership.removed",
    label=_("Member removed"),
    sentence=_("{actor_org} removed {user} from the organization."),
    actor=("user", "role"),
    values=MEMBER_VALUES,
)

# --- customer relations (the orgs' database ids stay with support) --------------------------------

RELATION = {"actor": ("status",), "support": ("partner", "customer"), "values": {"status": CustomerRelation.Status}}
audit_action(
    "customer_relation.created",
    label=_("Customer relation created"),
    sentence=_("{actor_org} created the customer relation {target}."),
    **RELATION,
)
audit_action(
    "customer_relation.requested",
    label=_("Connection requested"),
    sentence=_("{actor_org} asked to connect: {target}."),
    **RELATION,
)
audit_action(
    "customer_relation.accepted",
    label=_("Connection accepted"),
    sentence=_("{actor_org} accepted the connection {target}."),
    **RELATION,
)
audit_action(
    "customer_relation.declined",
    label=_("Connection declined"),
    sentence=_("{actor_org} declined the connection {target}."),
    **RELATION,
)
audit_action(
    "customer_relation.cancelled",
    label=_("Connection request withdrawn"),
    sentence=_("{actor_org} withdrew the connection request {target}."),
    **RELATION,
)
audit_action(
    "customer_relation.connected_by_support",
    label=_("Connected by support"),
    sentence=_("Support connected {target}."),
    **RELATION,
)
audit_action(
    "customer_relation.ended",
    label=_("Customer relation ended"),
    sentence=_("{actor_org} ended the customer relation {target}."),
    **RELATION,
)

# --- partner staff assigned to customers (ORG-11) --------------------------------------------------

audit_action(
    "staff.assigned",
    label=_("Partner staff assigned"),
    sentence=_("{actor_org} assigned {user} to {organization}."),
    actor=("user",),
    support=("customer",),
)
audit_action(
    "staff.unassigned",
    label=_("Partner staff unassigned"),
    sentence=_("{actor_org} removed the assignment of {user}."),
    actor=("user",),
    support=("customer",),
)

# --- invitations (ORG-5) ----------------------------------------------------------------------------

INVITATION = {
    "actor": ("email", "role", "status", "expires_at", "send_count"),
    "values": {"role": OrgRole, "status": Invitation.Status},
}
audit_action(
    "invitation.created",
    label=pgettext_lazy("audit action", "Invitation sent"),
    sentence=_("{actor_org} invited {email} as {role}."),
    **INVITATION,
)
audit_action(
    "invitation.resent",
    label=_("Invitation sent again"),
    sentence=_("{actor_org} sent the invitation to {email} again."),
    **INVITATION,
)
audit_action(
    "invitation.revoked",
    label=_("Invitation withdrawn"),
    sentence=_("{actor_org} withdrew the invitation to {email}."),
    **INVITATION,
)
audit_action(
    "invitation.accepted",
    label=_("Invitation accepted"),
    sentence=_("{email} accepted the invitation as {role}."),
    **INVITATION,
)
audit_action(
    "invitation.expired",
    label=_("Invitation expired"),
    sentence=_("The invitation to {email} expired."),
    **INVITATION,
)
