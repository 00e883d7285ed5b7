"""An organization itself: creation, profile, support contact, logo and kind (ORG-1, ORG-8).

Every function where a portal user acts is called with the acting `context`
(portal.tenancy.OrgContext), checks the capability itself and records the change in the trail.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from portal.audit import audit_record, snapshot
from portal.errors import Conflict, InvalidInput, PermissionDenied
from portal.hooks import run_hooks

from ..models import BILLING_FIELDS, PROFILE_FIELDS, SUPPORT_CONTACT_FIELDS, CustomerRelation, Organization
from ..roles import OrgKind
from ..validators import logo_process


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


def _validation_to_domain(error: ValidationError) -> InvalidInput:
    """The first message of a model validation error as a domain error at its field."""
    if hasattr(error, "error_dict"):
        field, errors = next(iter(error.error_dict.items()))
        return InvalidInput(errors[0].messages[0], field=None if field == NON_FIELD_ERRORS else field)
    return InvalidInput(error.messages[0])


def organization_full_clean(organization: Organization) -> None:
    try:
        organization.full_clean(exclude=["members_group", "logo"])
    except ValidationError as error:
        raise _validation_to_domain(error) from None


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
    organization_full_clean(organization)
    organization.save(update_fields=[*fields.keys()] if fields else None)
    after = snapshot(organization, PROFILE_FIELDS)
    if before != after:
        audit_record(
            action="organization.changed",
            target=organization,
            actor=actor,
            acting_organization=context.via_partner,
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
    organization_full_clean(organization)
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
        acting_organization=context.via_partner,
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
            acting_organization=context.via_partner,
            before={"logo": old_name},
            after={"logo": ""},
        )
    context.organization = organization
    return organization


@transaction.atomic
def organization_change_kind(*, organization: Organization, kind: str, actor) -> Organization:
    """Support only (the admin action "Change the kind"): make a customer a partner or back.

    `kind` decides which prices and areas an org sees (ORG-6), so it is read-only in the admin's
    form and changes only here: refused while the org is on the other side of a customer relation
    (a customer with a reseller cannot become a partner; a partner with customers cannot become
    a customer – end those relations first), recorded as "organization.kind_changed".
    """
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
