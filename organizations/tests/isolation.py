"""URL-kwarg factories of the organizations app for the generic isolation tests (tests/isolation.py)."""
from organizations.models import CustomerRelation, Membership, StaffAssignment
from organizations.roles import PARTNER_ROLES_NEEDING_ASSIGNMENT
from tests import factories
from tests.isolation import object_factory


@object_factory("customer")
def customer_of(organization, owner):
    """A customer linked to `organization` (when it is a partner) that all of the partner's staff
    reach – Members and Guests through an assignment (ORG-11) – so the role table alone decides."""
    customer = factories.OrganizationFactory()
    if organization.is_partner:
        factories.link(organization, customer)
        staff = Membership.objects.filter(organization=organization, role__in=list(PARTNER_ROLES_NEEDING_ASSIGNMENT))
        StaffAssignment.objects.bulk_create([StaffAssignment(membership=m, customer=customer) for m in staff])
    return customer.public_id


@object_factory("relation_id")
def connection_request_of(organization, owner):
    """An open connection request: from `organization` if it is a partner, else to it."""
    if organization.is_partner:
        partner, customer = organization, factories.OrganizationFactory()
    else:
        partner, customer = factories.PartnerFactory(), organization
    return CustomerRelation.objects.create(partner=partner, customer=customer, status=CustomerRelation.Status.REQUESTED).pk
