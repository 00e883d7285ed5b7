"""Customer relations between a partner and its customers (ORG-2, ORG-3): a partner creates a
customer or asks to connect one, the customer decides, either side ends the relation, support
connects directly.

Every function where a portal user acts is called with the acting `context`
(portal.tenancy.OrgContext), checks the capability itself and records the change in the trail of
both organizations.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from portal.audit import audit_record, snapshot
from portal.errors import Conflict, InvalidInput, NotFound
from portal.hooks import run_hooks
from portal.state_machine import transition
from portal.tenancy import active_reseller_relation

from ..models import PROFILE_FIELDS, CustomerRelation, Organization, StaffAssignment
from ..notifications import notify_connection
from ..roles import OrgKind, OrgRole
from ..selectors import customer_duplicates
from .invitations import invitation_create
from .profile import organization_create, organization_full_clean

RELATION_FIELDS = ["status", "partner", "customer"]


def _audit_both_sides(action: str, relation, *, actor, partner, customer) -> None:
    """The same event in the partner's trail and in the customer's (acted by the partner)."""
    after = snapshot(relation, RELATION_FIELDS)
    audit_record(action=action, target=relation, actor=actor, organization=partner, after=after)
    audit_record(
        action=action, target=relation, actor=actor, organization=customer, acting_organization=partner, after=after
    )


def require_own_partner(context, capability: str = "customers.manage") -> Organization:
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
    create_anyway: bool = False,
    **fields,
) -> CustomerRelation:
    """ORG-2 (onboarding method 1): a partner creates a customer org with a contact person.

    Partner Owners/Admins. In one transaction: the customer org (whose "organization.created"
    hook starts the trial, BIL-2), the active customer relation partner → customer, and the
    contact's invitation as Owner (its email goes out through the outbox after commit).
    """
    partner = require_own_partner(context)
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("These fields cannot be set here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if not (name or "").strip():
        raise InvalidInput(_("Enter the company name."), field="name")
    if not (contact_email or "").strip():
        raise InvalidInput(_("Enter the contact person's email address."), field="contact_email")
    candidate = Organization(name=name.strip(), kind=OrgKind.CUSTOMER, **fields)
    organization_full_clean(candidate)  # a clear message before anything is written
    if not create_anyway:
        _refuse_possible_duplicates(partner, candidate, contact_email)
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
    _audit_both_sides("customer_relation.created", relation, actor=actor, partner=partner, customer=customer)
    invitation_create(  # ORG-5 (services.invitations)
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


class PossibleDuplicate(Conflict):
    """Issue 16: the partner already has a customer with this name, VAT ID or contact email (or
    another organization has the VAT ID). `details["duplicates"]` lists them; the caller repeats
    the request with `create_anyway` when the new customer is a different one after all."""

    default_code = "possible_duplicate"


def _refuse_possible_duplicates(partner: Organization, candidate: Organization, contact_email: str) -> None:
    duplicates = customer_duplicates(
        partner=partner, name=candidate.name, vat_id=candidate.vat_id, contact_email=contact_email
    )
    if duplicates:
        raise PossibleDuplicate(
            _(
                "This customer may exist already (same name, VAT ID or contact email). Check the matches, then confirm “Create anyway” if it is a different customer."
            ),
            details={"duplicates": duplicates},
        )


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
    partner = require_own_partner(context)
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
    _audit_both_sides("customer_relation.requested", relation, actor=actor, partner=partner, customer=customer)
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
    run_hooks("customer_relation.activated", relation=relation, actor=actor)
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
    notify_connection(relation, event="declined")
    return relation


@transaction.atomic
def connection_cancel(*, relation: CustomerRelation, context, actor) -> CustomerRelation:
    """The partner withdraws its own open request."""
    partner = require_own_partner(context)
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
        run_hooks("customer_relation.activated", relation=relation, actor=actor)
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


def linked_customer(partner: Organization, customer_public_id: str) -> Organization:
    """An active customer of `partner`, or NotFound."""
    customer = Organization.objects.filter(
        public_id=str(customer_public_id).upper(),
        reseller_relations__partner=partner,
        reseller_relations__status=CustomerRelation.Status.ACTIVE,
    ).first()
    if customer is None:
        raise NotFound(gettext("Not found."))
    return customer
