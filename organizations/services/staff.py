"""Assigning partner staff to linked customers (ORG-11)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.errors import InvalidInput

from ..models import Membership, Organization, StaffAssignment
from ..roles import PARTNER_ROLES_NEEDING_ASSIGNMENT
from .relations import linked_customer, require_own_partner


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
    partner = require_own_partner(context, "staff.assign")
    customer = linked_customer(partner, customer.public_id)
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
    partner = require_own_partner(context, "staff.assign")
    customer = linked_customer(partner, customer.public_id)
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


@transaction.atomic
def staff_assign_many(*, context, customers: list[Organization], user_id, actor) -> int:
    """Issue 16: assign one partner Member (or Guest) to several linked customers at once, each
    through `staff_assign` (same checks and trail); all or none. Returns how many were newly
    assigned (already assigned customers are left as they are)."""
    from .archive import BULK_MAX_CUSTOMERS

    require_own_partner(context, "staff.assign")
    if not customers:
        raise InvalidInput(_("Select at least one customer."), field="customers")
    if len(customers) > BULK_MAX_CUSTOMERS:
        raise InvalidInput(
            _("Select at most %(max)s customers at once.") % {"max": BULK_MAX_CUSTOMERS}, field="customers"
        )
    membership = _partner_staff_membership(context.organization, user_id)
    already = set(
        StaffAssignment.objects.filter(membership=membership, customer__in=customers).values_list(
            "customer_id", flat=True
        )
    )
    for customer in customers:
        staff_assign(context=context, customer=customer, user_id=user_id, actor=actor)
    return len([customer for customer in customers if customer.pk not in already])
