"""The "offer.accepted" contract with billing (OFR-6, BIL-1, BIL-4): accepting provisions one
subscription per offer item, paid by the partner at partner conditions – once, however often the
accept is attempted; a declined or cancelled offer provisions nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from offers import services
from offers.models import Offer
from portal.errors import Conflict

from . import factories as of

pytestmark = pytest.mark.django_db
billing_models = pytest.importorskip("billing.models")


def test_accepting_provisions_subscriptions_once(world):
    offer = of.offer(world.partner, world.customer, tmpl=of.template(world.partner, products=world.products))
    context = of.context(world.customer_owner, world.customer)
    services.offer_accept(offer=offer, context=context, actor=world.customer_owner)
    with pytest.raises(Conflict):
        services.offer_accept(offer=offer, context=context, actor=world.customer_owner)
    subscriptions = billing_models.Subscription.objects.filter(offer_id=offer.pk).order_by("offer_item_id")
    assert subscriptions.count() == 2
    first = subscriptions[0]
    assert (first.organization, first.payer, first.product) == (world.customer, world.partner, world.products[0])
    assert first.unit_price == Decimal("8.00")  # the partner pays its partner price (20 % off 10.00)
    assert first.resale_unit_price == Decimal("10.00")
    assert {s.offer_item_id for s in subscriptions} == set(offer.items.values_list("pk", flat=True))


@pytest.mark.parametrize("status", [Offer.Status.DECLINED, Offer.Status.CANCELLED])
def test_nothing_is_provisioned_without_acceptance(world, status):
    offer = of.offer(world.partner, world.customer)
    if status == Offer.Status.DECLINED:
        services.offer_decline(
            offer=offer, context=of.context(world.customer_owner, world.customer), actor=world.customer_owner
        )
    else:
        services.offer_cancel(
            offer=offer, context=of.context(world.partner_owner, world.partner), actor=world.partner_owner
        )
    assert not billing_models.Subscription.objects.filter(offer_id=offer.pk).exists()
