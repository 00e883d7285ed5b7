"""Fixtures of the delegation tests: a customer with a project and an agency as caretaker."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from organizations.models import Organization, User
from organizations.roles import OrgRole
from projects.models import Project
from tests import factories


@dataclass
class World:
    customer: Organization
    agency: Organization
    project: Project
    customer_owner: User
    customer_admin: User
    customer_member: User
    agency_owner: User
    agency_admin: User
    agency_member: User


@pytest.fixture
def world(db) -> World:
    customer = factories.OrganizationFactory(name="Kunde AG")
    agency = factories.OrganizationFactory(name="Agentur GmbH")
    return World(
        customer=customer,
        agency=agency,
        project=factories.project(customer, "Webshop"),
        customer_owner=factories.member(customer, OrgRole.OWNER, language="de"),
        customer_admin=factories.member(customer, OrgRole.ADMIN, language="en"),
        customer_member=factories.member(customer, OrgRole.MEMBER),
        agency_owner=factories.member(agency, OrgRole.OWNER, language="en"),
        agency_admin=factories.member(agency, OrgRole.ADMIN, language="de"),
        agency_member=factories.member(agency, OrgRole.MEMBER),
    )
