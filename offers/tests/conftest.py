"""Fixtures of the offer tests: the shared world, the partner's discount, a catalog."""

from __future__ import annotations

import pytest

from tests.world import CUSTOMER_PEOPLE, PARTNER_PEOPLE, World, build_world

from . import factories as of


@pytest.fixture
def world(db) -> World:
    """The shared world (tests/world.py) with the partner's discount and two catalog products."""
    world = build_world(
        caretaker=False,
        languages={"customer_owner": "de"},
        accounts=(*PARTNER_PEOPLE, *CUSTOMER_PEOPLE),
    )
    of.discount(world.partner, "20")
    world.products = [of.product(list_price="10.00"), of.product(list_price="33.33", term_months=24)]
    return world


@pytest.fixture
def receiver(settings):
    from .receiver import WebhookReceiver

    settings.OFFER_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1

    running = WebhookReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def webhook(world, receiver):
    """The customer's webhook pointing at the local receiver."""
    from offers.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(organization=world.customer, url=receiver.url, secret="s3cret-for-signing-42")
