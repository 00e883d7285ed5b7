"""Writes of organizations, memberships and the audit trail."""
from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.forms.models import model_to_dict

from portal.hooks import run_hooks

from .models import AuditEvent, Membership, Organization
from .roles import OrgKind


def audit_record(
    *,
    action: str,
    target,
    actor=None,
    organization: Organization | None = None,
    acting_organization: Organization | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail (ORG-10). The shared mechanism every app writes to.

    `organization` is whose trail it belongs to (default: the target's org where it has one);
    `acting_organization` the org the actor acted from (a partner or caretaker org).
    """
    if organization is None:
        organization = target if isinstance(target, Organization) else getattr(target, "organization", None)
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor_user,
        actor_email=getattr(actor_user, "email", "") or "",
        acting_organization=acting_organization,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        before=_jsonable(before),
        after=_jsonable(after),
    )


def _jsonable(data):
    if data is None:
        return None
    return {key: (value if isinstance(value, str | int | float | bool | type(None)) else str(value)) for key, value in data.items()}


def snapshot(instance, fields: list[str]) -> dict:
    """The listed fields of an instance, for `before`/`after` of an audit event."""
    return _jsonable(model_to_dict(instance, fields=fields))


@transaction.atomic
def organization_create(*, name: str, kind: str = OrgKind.CUSTOMER, actor=None, **fields) -> Organization:
    """Create an org with its members group (used for org-wide guardian permissions)."""
    organization = Organization(name=name.strip(), kind=kind, **fields)
    organization.full_clean(exclude=["members_group", "logo"])
    organization.save()
    organization.members_group = Group.objects.create(name=f"org:{organization.public_id}")
    organization.save(update_fields=["members_group"])
    audit_record(action="organization.created", target=organization, actor=actor, after={"name": name, "kind": kind})
    run_hooks("organization.created", organization=organization, actor=actor)
    return organization


@transaction.atomic
def membership_set(*, organization: Organization, user, role: str, actor=None) -> Membership:
    """Add `user` to the org with `role`, or change the role; keeps the members group in sync."""
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    before = None if created else {"role": membership.role}
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if organization.members_group_id:
        user.groups.add(organization.members_group_id)
    audit_record(
        action="membership.added" if created else "membership.changed",
        target=membership,
        actor=actor,
        organization=organization,
        before=before,
        after={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor=None) -> None:
    organization = membership.organization
    if organization.members_group_id:
        membership.user.groups.remove(organization.members_group_id)
    audit_record(
        action="membership.removed",
        target=membership,
        actor=actor,
        organization=organization,
        before={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


# =================================================================================================
# Organization profile, customer relations, archiving, staff assignment (ORG-1 … ORG-4, ORG-7,
# ORG-8, ORG-11). Every function is called with the acting `context` (portal.tenancy.OrgContext)
# where a portal user acts, checks the capability itself and records the change in the trail.
# =================================================================================================
# ruff: noqa: E402 – this section's imports stay with it (the members section has its own).
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from portal.errors import Conflict, InvalidInput, NotFound
from portal.state_machine import transition

from .models import CustomerRelation, StaffAssignment
from .roles import PARTNER_ROLES_NEEDING_ASSIGNMENT, OrgRole

PROFILE_FIELDS = [
    "name", "street", "postcode", "city", "country", "vat_id",
    "billing_name", "billing_street", "billing_postcode", "billing_city", "billing_country", "billing_email",
    "billing_address_is_invoice_recipient",
]
SUPPORT_CONTACT_FIELDS = ["support_name", "support_email", "support_phone", "support_hours", "support_url"]
RELATION_FIELDS = ["status", "partner", "customer"]


def _validation_to_domain(error: ValidationError) -> InvalidInput:
    """The first message of a model validation error as a domain error at its field."""
    if hasattr(error, "error_dict"):
        field, errors = next(iter(error.error_dict.items()))
        return InvalidInput(errors[0].messages[0], field=None if field == NON_FIELD_ERRORS else field)
    return InvalidInput(error.messages[0])


def _full_clean(organization: Organization) -> None:
    try:
        organization.full_clean(exclude=["members_group", "logo"])
    except ValidationError as error:
        raise _validation_to_domain(error) from None


def _acting_org(context):
    return context.via_partner if context is not None and context.via_partner else None


@transaction.atomic
def organization_update(*, context, actor, **fields) -> Organization:
    """ORG-1: change name, address, VAT ID and billing address of the org in `context`.

    Owners/Admins of the org (and partner staff acting in it). The VAT ID is checked against the
    country and stored compact; a billing address must be complete. Raises InvalidInput.
    """
    context.require("organization.change")
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    organization = Organization.objects.select_for_update().get(pk=context.organization.pk)
    before = snapshot(organization, PROFILE_FIELDS)
    for name, value in fields.items():
        setattr(organization, name, value.strip() if isinstance(value, str) else value)
    _full_clean(organization)
    organization.save(update_fields=[*fields.keys()] if fields else None)
    after = snapshot(organization, PROFILE_FIELDS)
    if before != after:
        audit_record(
            action="organization.changed", target=organization, actor=actor, acting_organization=_acting_org(context),
            before={k: v for k, v in before.items() if after[k] != v}, after={k: v for k, v in after.items() if before[k] != v},
        )
    context.organization = organization
    return organization


@transaction.atomic
def support_contact_update(*, context, actor, **fields) -> Organization:
    """ORG-8: the partner's support contact, shown to its customers behind the support menu."""
    context.require("support_contact.change")
    organization = Organization.objects.select_for_update().get(pk=context.organization.pk)
    before = snapshot(organization, SUPPORT_CONTACT_FIELDS)
    for name in SUPPORT_CONTACT_FIELDS:
        if name in fields:
            setattr(organization, name, (fields[name] or "").strip())
    _full_clean(organization)
    organization.save(update_fields=SUPPORT_CONTACT_FIELDS)
    audit_record(action="organization.support_contact_changed", target=organization, actor=actor,
                 before=before, after=snapshot(organization, SUPPORT_CONTACT_FIELDS))
    context.organization = organization
    return organization


@transaction.atomic
def organization_logo_set(*, context, actor, upload) -> Organization:
    """ORG-8: replace the logo by `upload` once it passed every rule (see `logo_process`)."""
    from .validators import logo_process

    context.require("organization.change")
    try:
        clean = logo_process(upload)
    except ValidationError as error:
        raise InvalidInput(error.messages[0], field="logo", code=error.code or "invalid") from None
    organization = Organization.objects.select_for_update().get(pk=context.organization.pk)
    old_name = organization.logo.name if organization.logo else ""
    organization.logo.save(clean.name, clean, save=False)
    organization.save(update_fields=["logo"])
    audit_record(action="organization.logo_changed", target=organization, actor=actor,
                 acting_organization=_acting_org(context), before={"logo": old_name}, after={"logo": organization.logo.name})
    if old_name:
        storage, name = organization.logo.storage, old_name
        transaction.on_commit(lambda: storage.delete(name))
    context.organization = organization
    return organization


@transaction.atomic
def organization_logo_remove(*, context, actor) -> Organization:
    context.require("organization.change")
    organization = Organization.objects.select_for_update().get(pk=context.organization.pk)
    if organization.logo:
        old_name = organization.logo.name
        organization.logo = ""
        organization.save(update_fields=["logo"])
        audit_record(action="organization.logo_removed", target=organization, actor=actor,
                     acting_organization=_acting_org(context), before={"logo": old_name}, after={"logo": ""})
    context.organization = organization
    return organization


def _require_partner(context, capability: str = "customers.manage") -> Organization:
    context.require(capability)
    if context.acting_as_partner or not context.organization.is_partner:
        raise NotFound(gettext("Not found."))
    return context.organization


@transaction.atomic
def customer_create(
    *,
    context,
    actor,
    name: str,
    contact_email: str,
    contact_first_name: str,
    contact_last_name: str,
    contact_language: str | None = None,
    **fields,
) -> CustomerRelation:
    """ORG-2 (onboarding method 1): a partner creates a customer org with a contact person.

    Partner Owners/Admins. In one transaction: the customer org (whose "organization.created"
    hook starts the trial, BIL-2), the active customer relation partner → customer, and the
    contact's invitation as Owner (its email goes out through the outbox after commit).
    """
    partner = _require_partner(context)
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("These fields cannot be set here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if not (name or "").strip():
        raise InvalidInput(_("Enter the company name."), field="name")
    if not (contact_email or "").strip():
        raise InvalidInput(_("Enter the contact person's email address."), field="contact_email")
    candidate = Organization(name=name.strip(), kind=OrgKind.CUSTOMER, **fields)
    _full_clean(candidate)  # a clear message before anything is written
    customer = organization_create(
        name=name, kind=OrgKind.CUSTOMER, actor=actor,
        **{key: getattr(candidate, key) for key in fields},
    )
    relation = CustomerRelation.objects.create(
        partner=partner, customer=customer, status=CustomerRelation.Status.ACTIVE,
        requested_by=actor, decided_by=actor, activated_at=timezone.now(),
    )
    audit_record(action="customer_relation.created", target=relation, actor=actor, organization=partner,
                 after=snapshot(relation, RELATION_FIELDS))
    audit_record(action="customer_relation.created", target=relation, actor=actor, organization=customer,
                 acting_organization=partner, after=snapshot(relation, RELATION_FIELDS))
    invitation_create(  # ORG-5, the members section of this module
        organization=customer, email=contact_email, role=OrgRole.OWNER, actor=actor,
        first_name=(contact_first_name or "").strip(), last_name=(contact_last_name or "").strip(),
        language=contact_language or None,
    )
    return relation


def _find_by_identifier(identifier: str) -> Organization:
    public_id = (identifier or "").strip().upper()
    organization = Organization.objects.filter(public_id=public_id).first() if public_id else None
    if organization is None or organization.is_archived:
        raise InvalidInput(
            _("No organization has the identifier “%(identifier)s”. Ask the customer for the identifier shown on its organization page (ORG-XXXX-XXXX).")
            % {"identifier": (identifier or "").strip()[:40]},
            field="identifier", code="unknown_identifier",
        )
    return organization


def _second_reseller_error() -> Conflict:
    return Conflict(
        _("This organization already has a reseller. It can have only one; the current relation must end first."),
        code="second_reseller", field="identifier",
    )


@transaction.atomic
def connection_request(*, context, actor, identifier: str, message: str = "") -> CustomerRelation:
    """ORG-3: a partner asks to connect an existing customer org by its public identifier.

    Partner Owners/Admins. The customer's Owners/Admins are notified and decide under "Open
    requests". Refused with a clear message: unknown identifier, own org, a partner org, an org
    already linked (to this or another reseller), a second open request.
    """
    partner = _require_partner(context)
    customer = _find_by_identifier(identifier)
    if customer.pk == partner.pk:
        raise InvalidInput(_("This is your own organization."), field="identifier", code="own_organization")
    if customer.is_partner:
        raise InvalidInput(_("Partner organizations cannot become customers."), field="identifier", code="partner_organization")
    active = CustomerRelation.objects.filter(customer=customer, status=CustomerRelation.Status.ACTIVE).first()
    if active is not None:
        if active.partner_id == partner.pk:
            raise Conflict(_("This organization is already your customer."), code="already_customer", field="identifier")
        raise _second_reseller_error()
    if CustomerRelation.objects.filter(partner=partner, customer=customer, status=CustomerRelation.Status.REQUESTED).exists():
        raise Conflict(_("You already asked this organization; it has not decided yet."), code="duplicate_request", field="identifier")
    message = (message or "").strip()
    if len(message) > 2000:
        raise InvalidInput(_("The message is too long (at most 2000 characters)."), field="message")
    try:
        with transaction.atomic():
            relation = CustomerRelation.objects.create(
                partner=partner, customer=customer, status=CustomerRelation.Status.REQUESTED,
                message=message, requested_by=actor,
            )
    except IntegrityError:  # a concurrent identical request won
        raise Conflict(_("You already asked this organization; it has not decided yet."), code="duplicate_request", field="identifier") from None
    audit_record(action="customer_relation.requested", target=relation, actor=actor, organization=partner,
                 after=snapshot(relation, RELATION_FIELDS))
    audit_record(action="customer_relation.requested", target=relation, actor=actor, organization=customer,
                 acting_organization=partner, after=snapshot(relation, RELATION_FIELDS))
    from .notifications import notify_connection

    notify_connection(relation, event="requested")
    return relation


def _relation_for_customer_side(relation: CustomerRelation, context) -> None:
    context.require("requests.decide")
    if relation.customer_id != context.organization.pk:
        raise Conflict(_("Only the organization that was asked decides on this request."), code="not_asked")
    if context.acting_as_partner:
        # The handshake is the customer's own decision, never its current reseller's staff's.
        raise Conflict(_("Only the organization's own Owners and Admins decide on connection requests."),
                       code="customer_decides")


def _activate(relation: CustomerRelation, *, actor, sources) -> CustomerRelation:
    try:
        with transaction.atomic():
            transition(relation, CustomerRelation.Status.ACTIVE, sources=sources, decided_by=actor, activated_at=timezone.now())
    except IntegrityError:  # the partial unique index: another reseller became active meanwhile
        raise _second_reseller_error() from None
    return relation


@transaction.atomic
def connection_accept(*, relation: CustomerRelation, context, actor) -> CustomerRelation:
    """ORG-3: the customer's Owner/Admin accepts; the partner's staff reach the org at once.

    A customer with an active reseller cannot accept a second one (409, clear message; also when
    two acceptances race – the database's partial unique index decides).
    """
    _relation_for_customer_side(relation, context)
    if CustomerRelation.objects.filter(customer=relation.customer_id, status=CustomerRelation.Status.ACTIVE).exclude(pk=relation.pk).exists():
        raise _second_reseller_error()
    before = snapshot(relation, RELATION_FIELDS)
    _activate(relation, actor=actor, sources={CustomerRelation.Status.REQUESTED})
    _audit_relation(relation, "customer_relation.accepted", actor=actor, before=before, acting=None)
    from .notifications import notify_connection

    notify_connection(relation, event="accepted")
    return relation


@transaction.atomic
def connection_decline(*, relation: CustomerRelation, context, actor) -> CustomerRelation:
    _relation_for_customer_side(relation, context)
    before = snapshot(relation, RELATION_FIELDS)
    transition(relation, CustomerRelation.Status.DECLINED, sources={CustomerRelation.Status.REQUESTED},
               decided_by=actor, ended_at=timezone.now())
    _audit_relation(relation, "customer_relation.declined", actor=actor, before=before, acting=None)
    from .notifications import notify_connection

    notify_connection(relation, event="declined")
    return relation


@transaction.atomic
def connection_cancel(*, relation: CustomerRelation, context, actor) -> CustomerRelation:
    """The partner withdraws its own open request."""
    partner = _require_partner(context)
    if relation.partner_id != partner.pk:
        raise NotFound(gettext("Not found."))
    before = snapshot(relation, RELATION_FIELDS)
    transition(relation, CustomerRelation.Status.CANCELLED, sources={CustomerRelation.Status.REQUESTED}, ended_at=timezone.now())
    _audit_relation(relation, "customer_relation.cancelled", actor=actor, before=before, acting=partner)
    return relation


@transaction.atomic
def relation_connect(*, partner: Organization, customer: Organization, actor) -> CustomerRelation:
    """ORG-3/ORG-9: support staff connect a partner and a customer directly (Django admin).

    An open request between the two becomes active; otherwise an active relation is created.
    Refused: not a partner, a partner as customer, a customer that already has a reseller.
    """
    if not partner.is_partner:
        raise InvalidInput(_("“%(name)s” is not a partner organization.") % {"name": partner.name}, field="partner")
    if customer.is_partner or customer.pk == partner.pk:
        raise InvalidInput(_("Partner organizations cannot become customers."), field="customer")
    if customer.is_archived or partner.is_archived:
        raise Conflict(_("Archived organizations cannot be connected. Restore them first."), code="archived")
    active = CustomerRelation.objects.filter(customer=customer, status=CustomerRelation.Status.ACTIVE).first()
    if active is not None:
        if active.partner_id == partner.pk:
            return active
        raise _second_reseller_error()
    relation = CustomerRelation.objects.filter(partner=partner, customer=customer, status=CustomerRelation.Status.REQUESTED).first()
    if relation is not None:
        before = snapshot(relation, RELATION_FIELDS)
        _activate(relation, actor=actor, sources={CustomerRelation.Status.REQUESTED})
    else:
        before = None
        try:
            with transaction.atomic():
                relation = CustomerRelation.objects.create(
                    partner=partner, customer=customer, status=CustomerRelation.Status.ACTIVE,
                    requested_by=actor, decided_by=actor, activated_at=timezone.now(),
                )
        except IntegrityError:
            raise _second_reseller_error() from None
    _audit_relation(relation, "customer_relation.connected_by_support", actor=actor, before=before, acting=None)
    return relation


@transaction.atomic
def relation_end(*, relation: CustomerRelation, context, actor) -> CustomerRelation:
    """ORG-3: end an active reseller relation, from the partner (Owner/Admin) or the customer
    (Owner/Admin, not partner staff acting inside it); `context=None` for support in the admin.

    The partner's access ends at once (tenancy reads only active relations); the hook
    "customer_relation.ended" lets billing end partner-booked subscriptions in this transaction.
    """
    acting = None
    if context is not None:
        organization = context.organization
        if organization.pk == relation.partner_id and not context.acting_as_partner:
            context.require("customers.manage")
            acting = organization
        elif organization.pk == relation.customer_id:
            context.require("customer_relation.end")
            if context.acting_as_partner:
                raise Conflict(_("Partner staff end the relation from their own organization's customer list."),
                               code="end_from_partner")
        else:
            raise NotFound(gettext("Not found."))
    before = snapshot(relation, RELATION_FIELDS)
    transition(relation, CustomerRelation.Status.ENDED, sources={CustomerRelation.Status.ACTIVE}, ended_at=timezone.now())
    # Staff assignments belong to the relation: a reconnect starts without them.
    StaffAssignment.objects.filter(membership__organization=relation.partner_id, customer=relation.customer_id).delete()
    _audit_relation(relation, "customer_relation.ended", actor=actor, before=before, acting=acting)
    run_hooks("customer_relation.ended", relation=relation, actor=actor)
    from .notifications import notify_connection

    notify_connection(relation, event="ended")
    return relation


def _audit_relation(relation, action, *, actor, before, acting) -> None:
    after = snapshot(relation, RELATION_FIELDS)
    audit_record(action=action, target=relation, actor=actor, organization=relation.partner, before=before, after=after)
    audit_record(action=action, target=relation, actor=actor, organization=relation.customer,
                 acting_organization=acting, before=before, after=after)


def _linked_customer(partner: Organization, customer_public_id: str) -> Organization:
    """An active customer of `partner`, or NotFound."""
    customer = Organization.objects.filter(
        public_id=str(customer_public_id).upper(),
        reseller_relations__partner=partner,
        reseller_relations__status=CustomerRelation.Status.ACTIVE,
    ).first()
    if customer is None:
        raise NotFound(gettext("Not found."))
    return customer


@transaction.atomic
def organization_archive(*, context, customer: Organization, confirm_name: str, actor) -> Organization:
    """ORG-7: a partner Owner/Admin archives a linked customer org, confirmed by typing its name.

    Access ends at once (only active orgs resolve), projects stop (the projects app reads the
    org's status), invoices and the audit trail stay (rows are kept, never deleted). The hook
    "organization.archived" lets other apps end what hangs on the org. Support restores it.
    """
    partner = _require_partner(context)
    customer = _linked_customer(partner, customer.public_id)
    if (confirm_name or "").strip() != customer.name.strip():
        raise InvalidInput(
            _("Type the organization's name exactly as shown (“%(name)s”) to confirm.") % {"name": customer.name},
            field="confirm_name", code="confirmation_mismatch",
        )
    transition(customer, Organization.Status.ARCHIVED, sources={Organization.Status.ACTIVE}, archived_at=timezone.now())
    audit_record(action="organization.archived", target=customer, actor=actor, organization=customer,
                 acting_organization=partner, before={"status": "active"}, after={"status": "archived"})
    audit_record(action="organization.archived", target=customer, actor=actor, organization=partner,
                 before={"status": "active"}, after={"status": "archived"})
    run_hooks("organization.archived", organization=customer, actor=actor)
    return customer


@transaction.atomic
def organization_restore(*, organization: Organization, actor) -> Organization:
    """ORG-7: support staff restore an archived org (Django admin action)."""
    transition(organization, Organization.Status.ACTIVE, sources={Organization.Status.ARCHIVED}, archived_at=None)
    audit_record(action="organization.restored", target=organization, actor=actor,
                 before={"status": "archived"}, after={"status": "active"})
    return organization


def _partner_staff_membership(partner: Organization, user_id) -> Membership:
    membership = Membership.objects.filter(organization=partner, user_id=user_id).select_related("user").first()
    if membership is None:
        raise InvalidInput(_("Choose a member of your organization."), field="user")
    return membership


@transaction.atomic
def staff_assign(*, context, customer: Organization, user_id, actor) -> StaffAssignment:
    """ORG-11: a partner Owner/Admin lets a partner Member (or Guest) reach one linked customer.

    Owners/Admins reach every linked customer anyway; assigning them is refused as pointless.
    """
    partner = _require_partner(context, "staff.assign")
    customer = _linked_customer(partner, customer.public_id)
    membership = _partner_staff_membership(partner, user_id)
    if membership.role not in PARTNER_ROLES_NEEDING_ASSIGNMENT:
        raise InvalidInput(_("Owners and Admins reach every customer already; assign Members or Guests."), field="user")
    assignment, created = StaffAssignment.objects.get_or_create(membership=membership, customer=customer)
    if created:
        audit_record(action="staff.assigned", target=assignment, actor=actor, organization=partner,
                     after={"user": membership.user.email, "customer": customer.public_id})
        audit_record(action="staff.assigned", target=assignment, actor=actor, organization=customer,
                     acting_organization=partner, after={"user": membership.user.email, "customer": customer.public_id})
    return assignment


@transaction.atomic
def staff_unassign(*, context, customer: Organization, user_id, actor) -> None:
    partner = _require_partner(context, "staff.assign")
    customer = _linked_customer(partner, customer.public_id)
    membership = _partner_staff_membership(partner, user_id)
    assignment = StaffAssignment.objects.filter(membership=membership, customer=customer).first()
    if assignment is None:
        return
    audit_record(action="staff.unassigned", target=assignment, actor=actor, organization=partner,
                 before={"user": membership.user.email, "customer": customer.public_id})
    audit_record(action="staff.unassigned", target=assignment, actor=actor, organization=customer,
                 acting_organization=partner, before={"user": membership.user.email, "customer": customer.public_id})
    assignment.delete()
