"""Writes of organizations, memberships and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext

from portal.audit import audit_check
from portal.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from portal.hooks import run_hooks
from portal.outbox import outbox_enqueue
from portal.state_machine import transition
from portal.tenancy import OrgContext, active_reseller_relation, org_context_for_organization

from .models import AuditEvent, Invitation, Membership, Organization, User
from .roles import OrgKind, OrgRole, can_grant_role, can_manage_member, grantable_roles

# ORG-5: a resend within this interval is refused, so a double click sends one email.
INVITATION_RESEND_INTERVAL = timedelta(seconds=60)


def audit_event_build(
    *,
    action: str,
    target,
    actor=None,
    organization: Organization | None = None,
    organization_id: int | None = None,
    acting_organization: Organization | None = None,
    acting_organization_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    target_repr: str | None = None,
    created_at=None,
) -> AuditEvent:
    """One unsaved audit event, checked against the action registry (`portal.audit`): an
    undeclared action or payload key raises under DEBUG and in tests. `audit_record` saves one,
    `audit_record_many` a batch; nothing else writes `AuditEvent` rows."""
    audit_check(action, before, after)
    if organization is None and organization_id is None:
        organization = target if isinstance(target, Organization) else getattr(target, "organization", None)
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        actor=actor_user,
        actor_email=getattr(actor_user, "email", "") or "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=(str(target) if target_repr is None else target_repr)[:300],
        before=_jsonable(before),
        after=_jsonable(after),
    )
    if organization is not None:
        event.organization = organization
    else:
        event.organization_id = organization_id
    if acting_organization is not None:
        event.acting_organization = acting_organization
    else:
        event.acting_organization_id = acting_organization_id
    if created_at is not None:
        event.created_at = created_at
    return event


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
    `acting_organization` the org the actor acted from (a partner or caretaker org). The action
    must be declared in the app's `audit.py` (sentence, what each audience may read).
    """
    event = audit_event_build(
        action=action,
        target=target,
        actor=actor,
        organization=organization,
        acting_organization=acting_organization,
        before=before,
        after=after,
    )
    event.save(force_insert=True)
    return event


def audit_record_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Insert events built with `audit_event_build` in one statement (bulk jobs)."""
    return AuditEvent.objects.bulk_create(events)


def _jsonable(data):
    if data is None:
        return None
    return {
        key: (value if isinstance(value, str | int | float | bool | type(None)) else str(value))
        for key, value in data.items()
    }


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
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext as _

from .models import CustomerRelation, StaffAssignment
from .roles import PARTNER_ROLES_NEEDING_ASSIGNMENT

PROFILE_FIELDS = [
    "name",
    "street",
    "postcode",
    "city",
    "country",
    "vat_id",
    "billing_name",
    "billing_street",
    "billing_postcode",
    "billing_city",
    "billing_country",
    "billing_email",
    "billing_address_is_invoice_recipient",
]
BILLING_FIELDS = [name for name in PROFILE_FIELDS if name.startswith("billing_")]
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
        raise InvalidInput(
            _("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    organization = Organization.objects.select_for_update().get(pk=context.organization.pk)
    before = snapshot(organization, PROFILE_FIELDS)
    if context.is_partner_linked and not context.acting_as_partner:
        # BIL-4: the partner is the invoice recipient of its customers; they don't change that.
        changed = [name for name in BILLING_FIELDS if name in fields and fields[name] != getattr(organization, name)]
        if changed:
            raise PermissionDenied(
                _("Your reseller receives your invoices; the billing address is set by %(partner)s.")
                % {"partner": context.reseller.name},
                field=changed[0],
                code="billing_by_partner",
            )
    for name, value in fields.items():
        setattr(organization, name, value.strip() if isinstance(value, str) else value)
    _full_clean(organization)
    organization.save(update_fields=[*fields.keys()] if fields else None)
    after = snapshot(organization, PROFILE_FIELDS)
    if before != after:
        audit_record(
            action="organization.changed",
            target=organization,
            actor=actor,
            acting_organization=_acting_org(context),
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
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
    audit_record(
        action="organization.support_contact_changed",
        target=organization,
        actor=actor,
        before=before,
        after=snapshot(organization, SUPPORT_CONTACT_FIELDS),
    )
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
    audit_record(
        action="organization.logo_changed",
        target=organization,
        actor=actor,
        acting_organization=_acting_org(context),
        before={"logo": old_name},
        after={"logo": organization.logo.name},
    )
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
        audit_record(
            action="organization.logo_removed",
            target=organization,
            actor=actor,
            acting_organization=_acting_org(context),
            before={"logo": old_name},
            after={"logo": ""},
        )
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
    contact_initial_password: str | None = None,
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
        name=name,
        kind=OrgKind.CUSTOMER,
        actor=actor,
        **{key: getattr(candidate, key) for key in fields},
    )
    relation = CustomerRelation.objects.create(
        partner=partner,
        customer=customer,
        status=CustomerRelation.Status.ACTIVE,
        requested_by=actor,
        decided_by=actor,
        activated_at=timezone.now(),
    )
    audit_record(
        action="customer_relation.created",
        target=relation,
        actor=actor,
        organization=partner,
        after=snapshot(relation, RELATION_FIELDS),
    )
    audit_record(
        action="customer_relation.created",
        target=relation,
        actor=actor,
        organization=customer,
        acting_organization=partner,
        after=snapshot(relation, RELATION_FIELDS),
    )
    invitation_create(  # ORG-5, the members section of this module
        organization=customer,
        email=contact_email,
        role=OrgRole.OWNER,
        actor=actor,
        first_name=(contact_first_name or "").strip(),
        last_name=(contact_last_name or "").strip(),
        language=contact_language or None,
        initial_password=contact_initial_password or None,
    )
    return relation


def _find_by_identifier(identifier: str) -> Organization:
    public_id = (identifier or "").strip().upper()
    if not public_id:
        raise InvalidInput(
            _("Enter the organization's identifier (ORG-XXXX-XXXX)."), field="identifier", code="identifier_required"
        )
    organization = Organization.objects.filter(public_id=public_id).first()
    if organization is None or organization.is_archived:
        raise InvalidInput(
            _(
                "No organization has the identifier “%(identifier)s”. Ask the customer for the identifier shown on its organization page (ORG-XXXX-XXXX)."
            )
            % {"identifier": (identifier or "").strip()[:40]},
            field="identifier",
            code="unknown_identifier",
        )
    return organization


def _second_reseller_error() -> Conflict:
    return Conflict(
        _("This organization already has a reseller. It can have only one; the current relation must end first."),
        code="second_reseller",
        field="identifier",
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
        raise InvalidInput(
            _("Partner organizations cannot become customers."), field="identifier", code="partner_organization"
        )
    active = active_reseller_relation(customer)
    if active is not None:
        if active.partner_id == partner.pk:
            raise Conflict(
                _("This organization is already your customer."), code="already_customer", field="identifier"
            )
        raise _second_reseller_error()
    if CustomerRelation.objects.filter(
        partner=partner, customer=customer, status=CustomerRelation.Status.REQUESTED
    ).exists():
        raise Conflict(
            _("You already asked this organization; it has not decided yet."),
            code="duplicate_request",
            field="identifier",
        )
    message = (message or "").strip()
    if len(message) > 2000:
        raise InvalidInput(_("The message is too long (at most 2000 characters)."), field="message")
    try:
        with transaction.atomic():
            relation = CustomerRelation.objects.create(
                partner=partner,
                customer=customer,
                status=CustomerRelation.Status.REQUESTED,
                message=message,
                requested_by=actor,
            )
    except IntegrityError:  # a concurrent identical request won
        raise Conflict(
            _("You already asked this organization; it has not decided yet."),
            code="duplicate_request",
            field="identifier",
        ) from None
    audit_record(
        action="customer_relation.requested",
        target=relation,
        actor=actor,
        organization=partner,
        after=snapshot(relation, RELATION_FIELDS),
    )
    audit_record(
        action="customer_relation.requested",
        target=relation,
        actor=actor,
        organization=customer,
        acting_organization=partner,
        after=snapshot(relation, RELATION_FIELDS),
    )
    from .notifications import notify_connection

    notify_connection(relation, event="requested")
    return relation


def _relation_for_customer_side(relation: CustomerRelation, context) -> None:
    # `requests.decide` is a consent (organizations.roles): the handshake is the customer's own
    # decision, never its current reseller's staff's – they get 403 here, also on a direct call.
    context.require("requests.decide")
    if relation.customer_id != context.organization.pk:
        raise Conflict(_("Only the organization that was asked decides on this request."), code="not_asked")


def _activate(relation: CustomerRelation, *, actor, sources) -> CustomerRelation:
    try:
        with transaction.atomic():
            transition(
                relation, CustomerRelation.Status.ACTIVE, sources=sources, decided_by=actor, activated_at=timezone.now()
            )
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
    if (
        CustomerRelation.objects.filter(customer=relation.customer_id, status=CustomerRelation.Status.ACTIVE)
        .exclude(pk=relation.pk)
        .exists()
    ):
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
    transition(
        relation,
        CustomerRelation.Status.DECLINED,
        sources={CustomerRelation.Status.REQUESTED},
        decided_by=actor,
        ended_at=timezone.now(),
    )
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
    transition(
        relation,
        CustomerRelation.Status.CANCELLED,
        sources={CustomerRelation.Status.REQUESTED},
        ended_at=timezone.now(),
    )
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
    active = active_reseller_relation(customer)
    if active is not None:
        if active.partner_id == partner.pk:
            return active
        raise _second_reseller_error()
    relation = CustomerRelation.objects.filter(
        partner=partner, customer=customer, status=CustomerRelation.Status.REQUESTED
    ).first()
    if relation is not None:
        before = snapshot(relation, RELATION_FIELDS)
        _activate(relation, actor=actor, sources={CustomerRelation.Status.REQUESTED})
    else:
        before = None
        try:
            with transaction.atomic():
                relation = CustomerRelation.objects.create(
                    partner=partner,
                    customer=customer,
                    status=CustomerRelation.Status.ACTIVE,
                    requested_by=actor,
                    decided_by=actor,
                    activated_at=timezone.now(),
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
                raise Conflict(
                    _("Partner staff end the relation from their own organization's customer list."),
                    code="end_from_partner",
                )
        else:
            raise NotFound(gettext("Not found."))
    before = snapshot(relation, RELATION_FIELDS)
    transition(
        relation, CustomerRelation.Status.ENDED, sources={CustomerRelation.Status.ACTIVE}, ended_at=timezone.now()
    )
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
    audit_record(
        action=action,
        target=relation,
        actor=actor,
        organization=relation.customer,
        acting_organization=acting,
        before=before,
        after=after,
    )


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
            field="confirm_name",
            code="confirmation_mismatch",
        )
    transition(customer, Organization.Status.ARCHIVED, sources={Organization.Status.ACTIVE}, archived_at=timezone.now())
    audit_record(
        action="organization.archived",
        target=customer,
        actor=actor,
        organization=customer,
        acting_organization=partner,
        before={"status": "active"},
        after={"status": "archived"},
    )
    audit_record(
        action="organization.archived",
        target=customer,
        actor=actor,
        organization=partner,
        before={"status": "active"},
        after={"status": "archived"},
    )
    run_hooks("organization.archived", organization=customer, actor=actor)
    return customer


@transaction.atomic
def organization_restore(*, organization: Organization, actor) -> Organization:
    """ORG-7: support staff restore an archived org (Django admin action)."""
    transition(organization, Organization.Status.ACTIVE, sources={Organization.Status.ARCHIVED}, archived_at=None)
    audit_record(
        action="organization.restored",
        target=organization,
        actor=actor,
        before={"status": "archived"},
        after={"status": "active"},
    )
    return organization


@transaction.atomic
def organization_change_kind(*, organization: Organization, kind: str, actor) -> Organization:
    """Support only (the admin action "Change the kind"): make a customer a partner or back.

    `kind` decides which prices and areas an org sees (ORG-6), so it is read-only in the admin's
    form and changes only here: refused while the org is on the other side of a customer relation
    (a customer with a reseller cannot become a partner; a partner with customers cannot become
    a customer – end those relations first), recorded as "organization.kind_changed".
    """
    from .models import CustomerRelation

    if not (getattr(actor, "is_staff", False) and actor.has_perm("organizations.change_organization")):
        raise PermissionDenied(gettext("Only support staff change an organization's kind."))
    if kind not in OrgKind.values:
        raise InvalidInput(gettext("Choose partner or customer."), field="kind")
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    if locked.kind == kind:
        return locked
    open_statuses = [CustomerRelation.Status.ACTIVE, CustomerRelation.Status.REQUESTED]
    if kind == OrgKind.PARTNER and CustomerRelation.objects.filter(customer=locked, status__in=open_statuses).exists():
        raise Conflict(
            gettext(
                "“%(name)s” has a reseller or an open connection request: end it before making the "
                "organization a partner."
            )
            % {"name": locked.name},
            code="kind_has_reseller",
        )
    if kind == OrgKind.CUSTOMER and CustomerRelation.objects.filter(partner=locked, status__in=open_statuses).exists():
        raise Conflict(
            gettext(
                "“%(name)s” has customers or open connection requests: end them before making the "
                "organization a customer."
            )
            % {"name": locked.name},
            code="kind_has_customers",
        )
    before = {"kind": locked.kind}
    Organization.objects.filter(pk=locked.pk).update(kind=kind)
    locked.kind = kind
    organization.kind = kind
    audit_record(action="organization.kind_changed", target=locked, actor=actor, before=before, after={"kind": kind})
    return locked


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
        audit_record(
            action="staff.assigned",
            target=assignment,
            actor=actor,
            organization=partner,
            after={"user": membership.user.email, "customer": customer.public_id},
        )
        audit_record(
            action="staff.assigned",
            target=assignment,
            actor=actor,
            organization=customer,
            acting_organization=partner,
            after={"user": membership.user.email, "customer": customer.public_id},
        )
    return assignment


@transaction.atomic
def staff_unassign(*, context, customer: Organization, user_id, actor) -> None:
    partner = _require_partner(context, "staff.assign")
    customer = _linked_customer(partner, customer.public_id)
    membership = _partner_staff_membership(partner, user_id)
    assignment = StaffAssignment.objects.filter(membership=membership, customer=customer).first()
    if assignment is None:
        return
    audit_record(
        action="staff.unassigned",
        target=assignment,
        actor=actor,
        organization=partner,
        before={"user": membership.user.email, "customer": customer.public_id},
    )
    audit_record(
        action="staff.unassigned",
        target=assignment,
        actor=actor,
        organization=customer,
        acting_organization=partner,
        before={"user": membership.user.email, "customer": customer.public_id},
    )
    assignment.delete()


# --- ORG-5: members, roles and invitations -------------------------------------------------------
#
# Who may do what is read from the role table (`organizations.roles`): `members.invite` to invite,
# resend and revoke, `members.manage` to change roles and remove members, `members.manage_owners`
# for anything touching an Owner; nobody grants a role above their own (`can_grant_role`) and the
# last Owner stays. Every invitation change locks the row, then moves it with a conditional UPDATE
# (`portal.state_machine.transition`), so of two concurrent requests exactly one wins.
#
# No answer reveals whether an email address already has an account: creating, resending and
# revoking look the same either way; only the link's holder (the mailbox owner) is told whether to
# log in or to choose a password.


class InvitationClosed(DomainError):
    """The invitation link was used, withdrawn or has expired (410)."""

    status = 410
    default_code = "invitation_closed"


def _invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_valid_until():
    return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)


def _acting_role(organization: Organization, actor, context: OrgContext | None = None):
    """(role, context) of `actor` in `organization`.

    `actor=None` is the system (onboarding code, commands) and support staff outside the org act
    from the Django admin (ORG-9): both count as Owner, without an org context.
    """
    if context is not None:
        if context.organization.pk != organization.pk:
            raise NotFound(gettext("Not found."))
        return context.role, context
    if actor is None:
        return OrgRole.OWNER, None
    try:
        context = org_context_for_organization(actor, organization)
    except NotFound:
        if getattr(actor, "is_staff", False) and getattr(actor, "is_active", False):
            return OrgRole.OWNER, None
        raise
    return context.role, context


def _require(context: OrgContext | None, capability: str) -> None:
    if context is not None:
        context.require(capability)


def _has_owner(organization: Organization) -> bool:
    return Membership.objects.filter(organization=organization, role=OrgRole.OWNER).exists()


def may_set_initial_password(context: OrgContext | None) -> bool:
    """ORG-5: partner staff (in their own org or acting in a linked customer) and support/system."""
    return context is None or context.acting_as_partner or context.organization.is_partner


def roles_grantable_in(context: OrgContext) -> list[str]:
    """The roles the user of `context` may invite with or give to members."""
    return grantable_roles(context.role, organization_has_owner=_has_owner(context.organization))


def _require_may_grant(context: OrgContext | None, role: str, actor_role: str, organization: Organization) -> None:
    if role not in OrgRole.values:
        raise InvalidInput(gettext("Choose a valid role."), field="role")
    if not can_grant_role(actor_role, role, organization_has_owner=_has_owner(organization)):
        if role == OrgRole.OWNER:
            raise PermissionDenied(
                gettext("Only Owners can make someone an Owner."), code="above_own_role", field="role"
            )
        raise PermissionDenied(gettext("You cannot grant a role above your own."), code="above_own_role", field="role")


def _acting_organization(context: OrgContext | None) -> Organization | None:
    return (context.via_partner or context.organization) if context is not None else None


def _invitation_state(invitation: Invitation) -> dict:
    return {
        "email": invitation.email,
        "role": invitation.role,
        "status": invitation.status,
        "expires_at": invitation.expires_at.isoformat() if invitation.expires_at else None,
        "send_count": invitation.send_count,
    }


def _invitation_audit(invitation: Invitation, action: str, *, actor, context=None, before=None) -> None:
    audit_record(
        action=f"invitation.{action}",
        target=invitation,
        actor=actor,
        organization=invitation.organization,
        acting_organization=_acting_organization(context),
        before=before,
        after=_invitation_state(invitation),
    )


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(gettext("Enter a valid email address."), field="email") from None
    return email


def _clean_language(language: str | None, actor) -> str:
    languages = dict(settings.LANGUAGES)
    if language:
        if language not in languages:
            raise InvalidInput(gettext("Choose a valid language."), field="language")
        return language
    actor_language = getattr(actor, "language", "")
    return actor_language if actor_language in languages else settings.LANGUAGE_CODE


def _duplicate_invitation() -> Conflict:
    return Conflict(
        gettext("There already is a pending invitation for this address. Resend it instead."),
        code="duplicate",
        field="email",
    )


def _validate_new_password(password: str, *, email: str, first_name: str = "", last_name: str = "", field: str) -> None:
    try:
        validate_password(password, user=User(email=email, first_name=first_name, last_name=last_name))
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), code="weak_password", field=field) from None


def _invitation_enqueue_email(invitation: Invitation, token: str) -> None:
    """Store the email as an outbox row (sent by Celery after commit, swept if Redis was down).

    One row per sending (`send_count`), so a resend is a new email and a retried enqueue is not.
    The raw token is an outbox secret: emptied once the row has run (the invitation stores only
    its hash), so it never stays in the database.
    """
    from .invitation_emails import INVITATION_EMAIL_KIND

    outbox_enqueue(
        kind=INVITATION_EMAIL_KIND,
        payload={"invitation_id": invitation.pk, "send_number": invitation.send_count},
        secrets={"token": token},
        dedupe_key=f"invitation:{invitation.pk}:{invitation.send_count}",
    )


def invitation_expire(*, invitation: Invitation) -> bool:
    """Record that a pending invitation's time has passed. Returns False if there was nothing to do.

    Idempotent; runs in its own transaction, so a refusal raised afterwards does not undo it.
    """
    with transaction.atomic():
        if not Invitation.objects.due_to_expire().filter(pk=invitation.pk).exists():
            return False
        before = _invitation_state(invitation)
        try:
            transition(
                invitation, Invitation.Status.EXPIRED, sources={Invitation.Status.PENDING}, expired_at=timezone.now()
            )
        except Conflict:
            return False
        _invitation_audit(invitation, "expired", actor=None, before=before)
    return True


def invitation_expire_due(*, limit: int = 1000) -> int:
    """The periodic job: record expiries of pending invitations past their time (idempotent)."""
    expired = 0
    for invitation in Invitation.objects.due_to_expire().select_related("organization").order_by("id")[:limit]:
        expired += invitation_expire(invitation=invitation)
    return expired


def _refuse_unless_open(invitation: Invitation) -> None:
    """410 with the reason for a link that no longer works; records a due expiry first."""
    if (
        invitation.status == Invitation.Status.PENDING
        and invitation.status_at(timezone.now()) == Invitation.Status.EXPIRED
    ):
        invitation_expire(invitation=invitation)
        invitation.refresh_from_db()
    if invitation.status == Invitation.Status.EXPIRED:
        raise InvitationClosed(
            gettext("This invitation has expired. Ask %(organization)s to send it again.")
            % {"organization": invitation.organization.name},
            code="expired",
        )
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationClosed(gettext("This invitation was withdrawn."), code="revoked")
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationClosed(gettext("This invitation has already been accepted."), code="already_accepted")


def _lock_invitation(invitation: Invitation, token_hash: str | None = None) -> Invitation:
    """The row, locked for this transaction; with `token_hash`, only while the link is current."""
    rows = Invitation.objects.select_for_update().select_related("organization").filter(pk=invitation.pk)
    if token_hash is not None:
        rows = rows.filter(token_hash=token_hash)
    locked = rows.first()
    if locked is None:  # a resend replaced the link meanwhile
        raise InvitationClosed(gettext("This link was replaced by a newer invitation email."), code="replaced")
    return locked


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    actor,
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
    initial_password: str | None = None,
) -> Invitation:
    """Invite `email` into `organization` with `role` and email the link in the invitee's language.

    Caller: a holder of `members.invite` there (Owner/Admin, partner staff acting in a linked
    customer), support staff outside the org (ORG-9) or the system (`actor=None`, e.g. onboarding).
    Nobody invites above their own role; an org without an Owner may get its first one (ORG-2).

    `initial_password` (partner staff and support only): where the address has no account yet, the
    account is created now with it and must change it at first login; for an existing account it
    is ignored. Either way the answer is the same and the password is never emailed.

    Raises InvalidInput (400), PermissionDenied (403), Conflict (409: already a member, or a
    pending invitation for the address exists).
    """
    if organization.status != Organization.Status.ACTIVE:
        raise NotFound(gettext("Not found."))
    actor_role, context = _acting_role(organization, actor)
    _require(context, "members.invite")
    _require_may_grant(context, role, actor_role, organization)
    email = _clean_email(email)
    first_name, last_name = (first_name or "").strip()[:150], (last_name or "").strip()[:150]
    language = _clean_language(language, actor)
    if initial_password:
        if not may_set_initial_password(context):
            raise PermissionDenied(
                gettext("Only partner staff can set an initial password."),
                code="initial_password_not_allowed",
                field="initial_password",
            )
        _validate_new_password(
            initial_password, email=email, first_name=first_name, last_name=last_name, field="initial_password"
        )
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict(
            gettext("This person already is a member of this organization."), code="already_member", field="email"
        )
    for stale in Invitation.objects.due_to_expire().filter(organization=organization, email=email):
        invitation_expire(invitation=stale)
    if Invitation.objects.filter(organization=organization, email=email, status=Invitation.Status.PENDING).exists():
        raise _duplicate_invitation()

    prepared_user = None
    if initial_password and not User.objects.filter(email__iexact=email).exists():
        try:
            with transaction.atomic():
                prepared_user = User.objects.create_user(
                    email,
                    initial_password,
                    first_name=first_name,
                    last_name=last_name,
                    language=language,
                    must_change_password=True,
                )
        except IntegrityError:
            prepared_user = None  # created concurrently: an existing account keeps its password

    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        language=language,
        token_hash=_invitation_token_hash(token),
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
        with_initial_password=bool(initial_password),
        prepared_user=prepared_user,
        send_count=1,
        sent_at=now,
        invited_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
    )
    try:
        with transaction.atomic():
            invitation.save(force_insert=True)
    except IntegrityError as error:
        raise _duplicate_invitation() from error
    _invitation_audit(invitation, "created", actor=actor, context=context)
    _invitation_enqueue_email(invitation, token)
    return invitation


def invitation_resend(*, invitation: Invitation, actor, context: OrgContext | None = None) -> Invitation:
    """Send a pending or expired invitation again: a new link, valid for 7 more days (ORG-5).

    Caller: like `invitation_create` (resending re-grants the role). The old link stops working.
    A second resend within a minute is refused (409), so a double click sends one email.
    """
    organization = invitation.organization
    actor_role, context = _acting_role(organization, actor, context)
    _require(context, "members.invite")
    _require_may_grant(context, invitation.role, actor_role, organization)
    with transaction.atomic():
        locked = _lock_invitation(invitation)
        if (
            locked.status in (Invitation.Status.PENDING, Invitation.Status.EXPIRED)
            and locked.sent_at
            and (locked.sent_at > timezone.now() - INVITATION_RESEND_INTERVAL)
        ):
            raise Conflict(gettext("This invitation was sent less than a minute ago."), code="resent_recently")
        before = _invitation_state(locked)
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        try:
            with transaction.atomic():
                transition(
                    locked,
                    Invitation.Status.PENDING,
                    token_hash=_invitation_token_hash(token),
                    expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
                    send_count=F("send_count") + 1,
                    sent_at=now,
                    expired_at=None,
                )
        except IntegrityError as error:  # a newer pending invitation for the address exists
            raise _duplicate_invitation() from error
        _invitation_audit(locked, "resent", actor=actor, context=context, before=before)
        _invitation_enqueue_email(locked, token)
    invitation.refresh_from_db()
    return invitation


def invitation_revoke(*, invitation: Invitation, actor, context: OrgContext | None = None) -> Invitation:
    """Withdraw a pending invitation; its link stops working at once (ORG-5).

    Caller: `members.invite`, and only Owners for Owner invitations. An account prepared with an
    initial password that was never used loses that password.
    """
    organization = invitation.organization
    actor_role, context = _acting_role(organization, actor, context)
    _require(context, "members.invite")
    _require_may_grant(context, invitation.role, actor_role, organization)
    if (
        invitation.status == Invitation.Status.PENDING
        and invitation.status_at(timezone.now()) == Invitation.Status.EXPIRED
    ):
        invitation_expire(invitation=invitation)
    with transaction.atomic():
        locked = _lock_invitation(invitation)
        before = _invitation_state(locked)
        transition(
            locked,
            Invitation.Status.REVOKED,
            sources={Invitation.Status.PENDING},
            revoked_by=actor if getattr(actor, "is_authenticated", False) else None,
            revoked_at=timezone.now(),
        )
        prepared = locked.prepared_user
        if prepared is not None and prepared.last_login is None and not prepared.memberships.exists():
            prepared.set_unusable_password()
            prepared.save(update_fields=["password"])
        _invitation_audit(locked, "revoked", actor=actor, context=context, before=before)
    invitation.refresh_from_db()
    return invitation


def _accept_locked(invitation: Invitation, token_hash: str, user) -> Membership:
    locked = _lock_invitation(invitation, token_hash)
    _refuse_unless_open(locked)
    before = _invitation_state(locked)
    transition(
        locked,
        Invitation.Status.ACCEPTED,
        sources={Invitation.Status.PENDING},
        accepted_by=user,
        accepted_at=timezone.now(),
    )
    membership = Membership.objects.filter(organization=locked.organization, user=user).first()
    if membership is None:  # someone who became a member meanwhile keeps the role they have
        membership = membership_set(organization=locked.organization, user=user, role=locked.role, actor=user)
    _invitation_audit(locked, "accepted", actor=user, before=before)
    invitation.refresh_from_db()
    return membership


def invitation_open_for_token(*, token: str) -> Invitation:
    """The invitation of a link while it can be accepted: 404 unknown, 410 used/withdrawn/expired."""
    from .selectors import invitation_for_token

    invitation = invitation_for_token(token=token)
    _refuse_unless_open(invitation)
    return invitation


def invitation_accept(*, token: str, user) -> Membership:
    """The invited person, logged in with the invited address, accepts (ORG-5).

    404 for an unknown link, 410 for a used, withdrawn or expired one, 403 for another account.
    """
    invitation = invitation_open_for_token(token=token)
    if (getattr(user, "email", "") or "").lower() != invitation.email:
        raise PermissionDenied(
            gettext("This invitation was sent to a different email address. Log in with that address to accept it."),
            code="wrong_account",
        )
    with transaction.atomic():
        return _accept_locked(invitation, _invitation_token_hash(token), user)


def invitation_accept_new_account(*, token: str, first_name: str, last_name: str, password: str):
    """A person without an account accepts: the account is created with the chosen password.

    The link proves the address, so no further confirmation is needed. Returns (user, membership).
    409 where an account with the address exists (log in and accept instead).
    """
    invitation = invitation_open_for_token(token=token)
    first_name, last_name = (first_name or "").strip()[:150], (last_name or "").strip()[:150]
    if not first_name or not last_name:
        raise InvalidInput(
            gettext("Enter your first and last name."), field="first_name" if not first_name else "last_name"
        )
    account_exists = Conflict(
        gettext("An account with this email address exists. Log in to accept the invitation."), code="account_exists"
    )
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise account_exists
    _validate_new_password(
        password, email=invitation.email, first_name=first_name, last_name=last_name, field="password1"
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email, password, first_name=first_name, last_name=last_name, language=invitation.language
                )
        except IntegrityError as error:
            raise account_exists from error
        membership = _accept_locked(invitation, _invitation_token_hash(token), user)
    return user, membership


def _lock_owners(organization: Organization) -> int:
    """Lock the org row (serialising member changes of the org) and count its Owners."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    return Membership.objects.filter(organization=organization, role=OrgRole.OWNER).count()


def _require_actor_unchanged(context: OrgContext | None) -> None:
    """Inside the org lock: the actor's own membership still holds the role checked before the lock
    (an Owner removed or demoted a moment ago by another Owner no longer acts)."""
    if context is None or context.membership is None or context.acting_as_partner:
        return
    if not Membership.objects.filter(pk=context.membership.pk, role=context.membership.role).exists():
        raise Conflict(
            gettext("Your own role in this organization changed meanwhile. Reload the page and try again."),
            code="actor_changed",
        )


def _require_may_manage(context: OrgContext | None, actor_role: str, membership: Membership) -> None:
    _require(context, "members.manage")
    if membership.role == OrgRole.OWNER:
        _require(context, "members.manage_owners")
    if not can_manage_member(actor_role, membership.role):
        raise PermissionDenied(gettext("Only Owners can change or remove an Owner."), code="above_own_role")


def _last_owner_error() -> Conflict:
    return Conflict(
        gettext("An organization needs at least one Owner. Make someone else Owner first."), code="last_owner"
    )


def member_change_role(*, membership: Membership, role: str, actor, context: OrgContext | None = None) -> Membership:
    """Give a member another role (ORG-5). Caller: `members.manage`; Owners for anything Owner.

    Nobody grants above their own role; the last Owner cannot be demoted (409), also when two
    Owners demote each other at the same moment (the org row is locked).
    """
    organization = membership.organization
    actor_role, context = _acting_role(organization, actor, context)
    _require_may_manage(context, actor_role, membership)
    _require_may_grant(context, role, actor_role, organization)
    with transaction.atomic():
        owners = _lock_owners(organization)
        _require_actor_unchanged(context)
        current = Membership.objects.filter(pk=membership.pk).first()
        if current is None:
            raise NotFound(gettext("Not found."))
        if current.role == role:
            return current
        if current.role == OrgRole.OWNER and owners <= 1:
            raise _last_owner_error()
        return membership_set(organization=organization, user=current.user, role=role, actor=actor)


def member_remove(*, membership: Membership, actor, context: OrgContext | None = None) -> None:
    """Remove a member from the org (ORG-5). Caller: `members.manage`; Owners to remove Owners.

    The last Owner cannot be removed (409). The person's account stays.
    """
    organization = membership.organization
    actor_role, context = _acting_role(organization, actor, context)
    _require_may_manage(context, actor_role, membership)
    with transaction.atomic():
        owners = _lock_owners(organization)
        _require_actor_unchanged(context)
        current = Membership.objects.select_related("user", "organization").filter(pk=membership.pk).first()
        if current is None:
            raise NotFound(gettext("Not found."))
        if current.role == OrgRole.OWNER and owners <= 1:
            raise _last_owner_error()
        membership_remove(membership=current, actor=actor)
