"""URL-kwarg factories for the generic isolation tests (tests/test_isolation.py).

Templates and items: the same "isolation" template of a partner org, so `template_id` and
`item_id` of one URL belong together. In a customer org templates do not exist for anybody: a
foreign partner's template is returned, which must answer 404.
"""

from organizations.roles import OrgKind
from tests import factories
from tests.isolation import object_factory

from ..models import OfferBulkSend, OfferTemplate
from . import factories as of


def _isolation_template(organization) -> OfferTemplate:
    partner = organization if organization.kind == OrgKind.PARTNER else factories.PartnerFactory()
    existing = OfferTemplate.objects.filter(partner=partner, name="Isolation bundle").first()
    return existing or of.template(partner, name="Isolation bundle")


@object_factory("template_id")
def template_in(organization, owner):
    return _isolation_template(organization).pk


@object_factory("item_id")
def item_in(organization, owner):
    return _isolation_template(organization).items.order_by("id").first().pk


@object_factory("offer_id")
def offer_in(organization, owner):
    """An offer waiting for confirmation, sent by `organization` (partner) or to it (customer)."""
    if organization.kind == OrgKind.PARTNER:
        customer = factories.OrganizationFactory()
        factories.link(organization, customer)
        return of.offer(organization, customer).pk
    return of.offer(of.reseller_of(organization), organization).pk


@object_factory("bulk_send_id")
def bulk_send_in(organization, owner):
    partner = organization if organization.kind == OrgKind.PARTNER else factories.PartnerFactory()
    return OfferBulkSend.objects.create(
        partner=partner, title="Isolation", total=0, status=OfferBulkSend.Status.DONE
    ).pk
