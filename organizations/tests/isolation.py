"""URL-kwarg factories of the organizations app for the generic isolation tests (tests/isolation.py).

ORG-5 objects are Guests and Guest invitations, so every role that holds the route's capability may
act on them (nobody is refused for acting above their own rank).
"""

import itertools

from organizations.models import CustomerRelation, Membership, StaffAssignment
from organizations.roles import PARTNER_ROLES_NEEDING_ASSIGNMENT, OrgRole
from tests import factories
from tests.isolation import object_factory

from ..services.invitations import invitation_create

_invitation_numbers = itertools.count()


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
    return CustomerRelation.objects.create(
        partner=partner, customer=customer, status=CustomerRelation.Status.REQUESTED
    ).pk


@object_factory("member_id")
def member_in(organization, owner):
    guest = factories.member(organization, OrgRole.GUEST)
    return Membership.objects.get(user=guest, organization=organization).pk


@object_factory("invitation_id")
def invitation_in(organization, owner):
    return invitation_create(
        organization=organization,
        email=f"invited-{next(_invitation_numbers)}@isolation.example",
        role=OrgRole.GUEST,
        actor=None,
    ).pk


@object_factory("export_id")
def customer_export_of(organization, owner):
    """A prepared customer export of `owner` (issue 16): only its requester may read it."""
    from django.core.files.base import ContentFile

    from organizations.models import CustomerExport

    export = CustomerExport(
        organization=organization, requested_by=owner, format="csv", status=CustomerExport.Status.DONE, row_count=0
    )
    export.file.save("customers.csv", ContentFile(b"Name\n"), save=False)
    export.save()
    return export.pk


@object_factory("panel")
def dashboard_panel_key(organization, owner):
    """A dashboard panel both org kinds show to those who may see requests (the rest of the
    dashboard's panels follow the same role rule: organizations/dashboards.py)."""
    return "requests"
