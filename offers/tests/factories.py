"""Offer test data: catalog products, templates and offers in each state, through the services."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

from django.utils import timezone

from organizations.models import CustomerRelation, Organization
from organizations.roles import OrgRole
from portal.tenancy import org_context_for_organization
from tests import factories

from .. import services
from ..models import Offer, OfferTemplate, PartnerCondition, PartnerTier, Product

_sku = count(1)


def product(*, list_price="10.00", term_months=12, kind=Product.Kind.MODULE, name="Module") -> Product:
    n = next(_sku)
    return Product.objects.create(
        kind=kind,
        sku=f"SKU-{n:05d}",
        name_en=f"{name} {n}",
        name_de=f"{name} {n} (de)",
        term_months=term_months,
        list_price=Decimal(list_price),
    )


def context(user, organization):
    return org_context_for_organization(user, organization)


def owner_of(organization: Organization):
    membership = organization.memberships.filter(role=OrgRole.OWNER).select_related("user").first()
    return membership.user if membership else factories.member(organization, OrgRole.OWNER)


def discount(partner: Organization, percent: str) -> PartnerCondition:
    tier, _ = PartnerTier.objects.get_or_create(name=f"Tier {percent}", defaults={"discount_percent": Decimal(percent)})
    condition, _ = PartnerCondition.objects.update_or_create(partner=partner, defaults={"tier": tier})
    return condition


def template(
    partner: Organization, *, name: str | None = None, products: list[Product] | None = None, actor=None
) -> OfferTemplate:
    actor = actor or owner_of(partner)
    ctx = context(actor, partner)
    created = services.offer_template_create(context=ctx, name=name or f"Bundle {next(_sku)}", actor=actor)
    for item_product in products if products is not None else [product()]:
        services.offer_template_add_product(template=created, context=ctx, product_id=item_product.pk, actor=actor)
    return created


def reseller_of(customer: Organization) -> Organization:
    relation = CustomerRelation.objects.filter(customer=customer, status=CustomerRelation.Status.ACTIVE).first()
    if relation is not None:
        return relation.partner
    partner = factories.PartnerFactory()
    factories.link(partner, customer)
    return partner


def offer(
    partner: Organization,
    customer: Organization,
    *,
    status: str = Offer.Status.WAITING_FOR_CONFIRMATION,
    tmpl: OfferTemplate | None = None,
    message: str = "",
) -> Offer:
    """An offer sent through the service, then moved to `status` the way the system would."""
    actor = owner_of(partner)
    sent = services.offer_send(
        context=context(actor, partner),
        template=tmpl or template(partner, actor=actor),
        customer=customer,
        message=message,
        actor=actor,
        allow_duplicate=True,  # tests send the same template on purpose; the warning has its own tests
    )
    sent.refresh_from_db()
    delivered = status not in (Offer.Status.WAITING, Offer.Status.DELIVERY_FAILED)
    Offer.objects.filter(pk=sent.pk).update(status=status, delivered_at=timezone.now() if delivered else None)
    sent.refresh_from_db()
    return sent
