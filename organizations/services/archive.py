"""Archiving a customer organization and restoring it (ORG-7)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.errors import InvalidInput
from portal.hooks import run_hooks
from portal.state_machine import transition

from ..models import Organization
from .relations import linked_customer, require_own_partner


@transaction.atomic
def organization_archive(*, context, customer: Organization, confirm_name: str, actor) -> Organization:
    """ORG-7: a partner Owner/Admin archives a linked customer org, confirmed by typing its name.

    Access ends at once (only active orgs resolve), projects stop (the projects app reads the
    org's status), invoices and the audit trail stay (rows are kept, never deleted). The hook
    "organization.archived" lets other apps end what hangs on the org. Support restores it.
    """
    partner = require_own_partner(context)
    customer = linked_customer(partner, customer.public_id)
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


# Bulk actions act on the rows of one page at most (the table offers 100 per page).
BULK_MAX_CUSTOMERS = 100


@transaction.atomic
def organization_archive_many(*, context, customers: list[Organization], confirm_count, actor) -> int:
    """Issue 16: a partner Owner/Admin archives several linked customers at once, confirmed by
    typing how many. Each one goes through `organization_archive` (same checks, trail, hooks);
    all or none. Returns the number archived."""
    require_own_partner(context)
    if not customers:
        raise InvalidInput(_("Select at least one customer."), field="customers")
    if len(customers) > BULK_MAX_CUSTOMERS:
        raise InvalidInput(
            _("Select at most %(max)s customers at once.") % {"max": BULK_MAX_CUSTOMERS}, field="customers"
        )
    if str(confirm_count or "").strip() != str(len(customers)):
        raise InvalidInput(
            _("Type the number of customers (%(count)s) to confirm.") % {"count": len(customers)},
            field="confirm_count",
            code="confirmation_mismatch",
        )
    for customer in customers:
        organization_archive(context=context, customer=customer, confirm_name=customer.name, actor=actor)
    return len(customers)
