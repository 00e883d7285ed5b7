"""Fixtures of the billing tests: a partner with conditions, a linked and a direct customer,
catalog products, and a project with people in every project role (PRJ-5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import ProductBilling
from offers.models import PartnerCondition, PartnerTier, Product
from organizations.models import Organization, User
from portal.tenancy import OrgContext, org_context_for_organization
from projects.models import ProjectRoleGrant
from projects.roles import ProjectRole
from projects.services import project_grant_role
from tests import factories
from tests.world import PARTNER_PEOPLE, World, build_world


def product(sku: str, *, kind=Product.Kind.MODULE, price="10.00", term_months=12, **extra) -> Product:
    return Product.objects.create(
        sku=sku,
        kind=kind,
        name_en=f"{sku} (en)",
        name_de=f"{sku} (de)",
        list_price=Decimal(price),
        term_months=term_months,
        **extra,
    )


def context(user: User, organization: Organization) -> OrgContext:
    return org_context_for_organization(user, organization)


@pytest.fixture
def world(db) -> World:
    """The shared world (tests/world.py) without the agency's release, plus: the partner's Gold
    tier, three catalog products, a project of the customer ("Kunde Shop") and one of the direct
    customer ("Direkt Shop"), both cared for by the agency (EXTERNAL grants)."""
    world = build_world(
        caretaker=False,
        accounts=(
            *PARTNER_PEOPLE,
            "customer_owner",
            "customer_admin",
            "direct_owner",
            "direct_member",
            "agency_owner",
        ),
    )
    tier = PartnerTier.objects.create(name="Gold", discount_percent=Decimal("20"))
    PartnerCondition.objects.create(partner=world.partner, tier=tier)
    world.customer_project = factories.project(world.customer, "Kunde Shop")
    world.direct_project = factories.project(world.direct, "Direkt Shop")
    for project in (world.customer_project, world.direct_project):
        project_grant_role(
            project=project,
            organization=world.agency,
            role=ProjectRole.EXTERNAL,
            source=ProjectRoleGrant.Source.DELEGATION,
        )
    world.module = product("MOD-CRM", price="19.99")
    world.addon = product("ADD-STORAGE", price="4.99")
    # the catalog's add-on relation: storage in 10 GB packs, an add-on to the module (issue 16)
    storage = ProductBilling.objects.create(product=world.addon, unit=ProductBilling.Unit.GB_STORAGE, unit_size=10)
    storage.add_on_to.add(world.module)
    world.service = product("SRV-SSL", kind=Product.Kind.SERVICE, price="7.50")
    return world
