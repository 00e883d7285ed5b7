"""Fixtures of the offer tests: a partner with a linked customer, people in every role, a catalog."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from organizations.models import Organization, User
from organizations.roles import OrgRole
from tests import factories

from . import factories as of


@dataclass
class World:
    partner: Organization
    customer: Organization
    partner_owner: User
    partner_admin: User
    partner_member: User
    customer_owner: User
    customer_admin: User
    customer_member: User
    customer_guest: User
    products: list


@pytest.fixture
def world(db) -> World:
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Kunde AG")
    factories.link(partner, customer)
    of.discount(partner, "20")
    return World(
        partner=partner,
        customer=customer,
        partner_owner=factories.member(partner, OrgRole.OWNER),
        partner_admin=factories.member(partner, OrgRole.ADMIN),
        partner_member=factories.member(partner, OrgRole.MEMBER),
        customer_owner=factories.member(customer, OrgRole.OWNER, language="de"),
        customer_admin=factories.member(customer, OrgRole.ADMIN),
        customer_member=factories.member(customer, OrgRole.MEMBER),
        customer_guest=factories.member(customer, OrgRole.GUEST),
        products=[of.product(list_price="10.00"), of.product(list_price="33.33", term_months=24)],
    )


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
