"""Helpers to create subscriptions in tests (through the services, so rows are realistic)."""

from __future__ import annotations

from billing import services
from billing.models import Subscription


def book(world, *, product=None, quantity=3, organization=None, user=None, parent=None) -> Subscription:
    """A partner booking in the linked customer (or a booking by `user` in `organization`)."""
    from .conftest import context

    organization = organization or world.customer
    user = user or (world.partner_owner if organization in (world.customer, world.partner) else world.direct_owner)
    return services.subscription_book(
        context=context(user, organization),
        product=product or world.module,
        quantity=quantity,
        confirm_obligation_to_pay=True,
        actor=user,
        parent=parent,
    )
