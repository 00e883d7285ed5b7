"""The demo data of the projects app (seeded after organizations; idempotent)."""

import pytest
from django.urls import reverse

from organizations.models import User
from portal.management.commands.seed_demo import seed_all
from projects.models import Project, ProjectRoleGrant, ProjectUserObjectPermission
from projects.selectors import project_list_for_user

pytestmark = pytest.mark.django_db


def names(email: str) -> set[str]:
    return {p.name for p in project_list_for_user(user=User.objects.get(email=email))}


def test_enduser_sees_exactly_one_project_everywhere(client, api_client):
    seed_all()
    assert names("enduser@demo.example") == {"Endkunden-Shop Müller"}
    enduser = User.objects.get(email="enduser@demo.example")
    assert not enduser.memberships.exists()
    client.force_login(enduser)
    assert [p.name for p in client.get(reverse("project-list")).context["object_list"]] == ["Endkunden-Shop Müller"]
    api_client.force_login(enduser)
    assert api_client.get(reverse("api-project-list")).json()["count"] == 1


def test_partner_sees_its_own_and_its_customers_projects():
    seed_all()
    assert names("partner@demo.example") == {
        "Endkunden-Shop Müller",
        "Intranet Schmidt",
        "Website Demo Kunde",
        "CRM Demo Kunde",
    }
    assert names("customer@demo.example") == {"Website Demo Kunde", "CRM Demo Kunde"}
    assert "Direkt Webshop" in names("direct@demo.example")


def test_a_developer_role_with_an_end_date():
    seed_all()
    grant = ProjectRoleGrant.objects.get(user__email="guest@demo.example", project__name="CRM Demo Kunde")
    assert grant.role == "developer" and grant.expires_at is not None and grant.is_in_force()
    assert names("guest@demo.example") == {"CRM Demo Kunde"}


def test_seeding_twice_creates_and_changes_nothing():
    seed_all()
    before = (
        list(Project.objects.order_by("id").values_list("id", "number", "name")),
        list(ProjectRoleGrant.objects.order_by("id").values_list("id", "role", "expires_at")),
        ProjectUserObjectPermission.objects.count(),
    )
    seed_all()
    after = (
        list(Project.objects.order_by("id").values_list("id", "number", "name")),
        list(ProjectRoleGrant.objects.order_by("id").values_list("id", "role", "expires_at")),
        ProjectUserObjectPermission.objects.count(),
    )
    assert before == after
