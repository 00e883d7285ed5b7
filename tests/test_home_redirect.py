"""The home page (`/`): where a signed-in user lands, read from the user's own memberships first
(issue 13: a grantee without an org paid for two org queries that could only come back empty)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.models import Organization
from organizations.roles import OrgRole
from organizations.services.members import membership_set
from projects.roles import ProjectRole
from tests import factories

pytestmark = pytest.mark.django_db


def landing(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.get("Location", "")


def dashboard(organization: Organization) -> str:
    return reverse("organization-dashboard", kwargs={"org": organization.public_id})


def archive(organization: Organization) -> None:
    Organization.objects.filter(pk=organization.pk).update(status=Organization.Status.ARCHIVED)


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_partner_lands_in_its_own_org_before_any_customer(client):
    partner = factories.PartnerFactory(name="Zeta Partner")
    owner = factories.member(partner, OrgRole.OWNER)
    factories.link(partner, factories.OrganizationFactory(name="Alpha Customer"))  # sorts first
    assert landing(client, owner) == dashboard(partner)


def test_of_several_own_orgs_the_first_by_name_wins(client):
    user = factories.member(factories.OrganizationFactory(name="Beta"), OrgRole.MEMBER)
    alpha = factories.OrganizationFactory(name="Alpha")
    membership_set(organization=alpha, user=user, role=OrgRole.GUEST)
    assert landing(client, user) == dashboard(alpha)


def test_an_archived_own_org_is_skipped_for_the_next_active_one(client):
    user = factories.member(factories.OrganizationFactory(name="Beta"), OrgRole.OWNER)
    archived = factories.OrganizationFactory(name="Alpha")
    membership_set(organization=archived, user=user, role=OrgRole.OWNER)
    archive(archived)
    assert landing(client, user) == dashboard(user.memberships.get(organization__name="Beta").organization)


def test_a_member_of_archived_orgs_only_with_a_project_grant_goes_to_the_projects(client):
    archived = factories.OrganizationFactory()
    user = factories.member(archived, OrgRole.OWNER)
    archive(archived)
    factories.grant(factories.project(factories.OrganizationFactory()), user, ProjectRole.VIEWER)
    assert landing(client, user) == reverse("project-list")


def test_a_grantee_without_an_org_goes_to_the_projects_without_reading_orgs(client):
    user = factories.UserFactory()
    factories.grant(factories.project(factories.OrganizationFactory()), user, ProjectRole.VIEWER)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("project-list")
    assert not [q for q in queries.captured_queries if 'FROM "organizations_organization"' in q["sql"]]
    # session, user, memberships, one EXISTS over the projects
    assert len(queries) == 4


def test_a_user_with_neither_orgs_nor_projects_gets_the_home_page(client):
    user = factories.UserFactory()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert "not a member of any organization yet" in response.content.decode()
