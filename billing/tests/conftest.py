"""Fixtures of the billing tests: a partner with conditions, a linked and a direct customer,
catalog products, and a project with people in every project role (PRJ-5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from offers.models import PartnerCondition, PartnerTier, Product
from organizations.models import Organization, User
from organizations.roles import OrgRole
from portal.tenancy import OrgContext, org_context_for_organization
from projects.models import Project, ProjectRoleGrant
from projects.roles import ProjectRole
from projects.services import project_grant_role
from tests import factories


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


@dataclass
class World:
    partner: Organization
    customer: Organization  # linked to the partner
    direct: Organization  # no reseller
    agency: Organization  # a caretaker of the customer's and the direct customer's projects
    module: Product
    addon: Product
    service: Product
    partner_owner: User
    partner_admin: User
    partner_member: User
    customer_owner: User
    customer_admin: User
    direct_owner: User
    direct_member: User
    agency_owner: User
    customer_project: Project
    direct_project: Project

    def partner_in_customer(self) -> OrgContext:
        return context(self.partner_owner, self.customer)


@pytest.fixture
def world(db) -> World:
    partner = factories.PartnerFactory(name="Partner GmbH")
    tier = PartnerTier.objects.create(name="Gold", discount_percent=Decimal("20"))
    PartnerCondition.objects.create(partner=partner, tier=tier)
    customer = factories.OrganizationFactory(name="Kunde AG")
    factories.link(partner, customer)
    direct = factories.OrganizationFactory(name="Direkt GmbH")
    agency = factories.OrganizationFactory(name="Agentur GmbH")
    customer_project = factories.project(customer, "Kunde Shop")
    direct_project = factories.project(direct, "Direkt Shop")
    for project in (customer_project, direct_project):
        project_grant_role(
            project=project, organization=agency, role=ProjectRole.EXTERNAL, source=ProjectRoleGrant.Source.DELEGATION
        )
    return World(
        partner=partner,
        customer=customer,
        direct=direct,
        agency=agency,
        module=product("MOD-CRM", price="19.99"),
        addon=product("ADD-STORAGE", price="4.99"),
        service=product("SRV-SSL", kind=Product.Kind.SERVICE, price="7.50"),
        partner_owner=factories.member(partner, OrgRole.OWNER),
        partner_admin=factories.member(partner, OrgRole.ADMIN),
        partner_member=factories.member(partner, OrgRole.MEMBER),
        customer_owner=factories.member(customer, OrgRole.OWNER),
        customer_admin=factories.member(customer, OrgRole.ADMIN),
        direct_owner=factories.member(direct, OrgRole.OWNER),
        direct_member=factories.member(direct, OrgRole.MEMBER),
        agency_owner=factories.member(agency, OrgRole.OWNER),
        customer_project=customer_project,
        direct_project=direct_project,
    )
