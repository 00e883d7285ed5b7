"""The project pages: lists (search, org filter, pagination, caretaker mark), create, detail,
edit, archive/restore, delete, navigation."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from organizations.models import AuditEvent
from organizations.roles import OrgRole
from projects.models import Project, ProjectRoleGrant
from projects.roles import ProjectRole
from projects.services import project_grant_role
from tests import factories

pytestmark = pytest.mark.django_db


def numbers(response) -> list[str]:
    return [project.number for project in response.context["object_list"]]


@pytest.fixture
def owner_world():
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Customer AG")
    factories.link(partner, customer)
    owner = factories.member(partner, OrgRole.OWNER)
    return {
        "partner": partner,
        "customer": customer,
        "owner": owner,
        "alpha": factories.project(partner, "Alpha shop"),
        "beta": factories.project(customer, "Beta intranet"),
        "gamma": factories.project(customer, "Gamma shop"),
        "foreign": factories.project(factories.OrganizationFactory(), "Foreign shop"),
    }


# --- the list across orgs ---------------------------------------------------------------------


def test_the_list_shows_every_visible_project_sorted_by_name(client, owner_world):
    client.force_login(owner_world["owner"])
    response = client.get(reverse("project-list"))
    assert response.status_code == 200
    assert numbers(response) == [owner_world[k].number for k in ("alpha", "beta", "gamma")]
    html = response.content.decode()
    assert "Customer AG" in html and "Foreign shop" not in html
    assert "3 projects" in html


@pytest.mark.parametrize(
    "term, expected",
    [
        ("shop", ["alpha", "gamma"]),
        ("SHOP", ["alpha", "gamma"]),
        ("intra", ["beta"]),
        ("foreign", []),
        ("", ["alpha", "beta", "gamma"]),
    ],
)
def test_search_by_name(client, owner_world, term, expected):
    client.force_login(owner_world["owner"])
    response = client.get(reverse("project-list"), {"q": term})
    assert numbers(response) == [owner_world[k].number for k in expected]


def test_search_by_number_in_any_case_and_by_digits(client, owner_world):
    client.force_login(owner_world["owner"])
    beta = owner_world["beta"].number
    for term in (beta, beta.upper(), beta.removeprefix("p-")):
        assert numbers(client.get(reverse("project-list"), {"q": term})) == [beta]
    assert numbers(client.get(reverse("project-list"), {"q": owner_world["foreign"].number})) == []


def test_filter_by_organization(client, owner_world):
    client.force_login(owner_world["owner"])
    response = client.get(reverse("project-list"), {"organization": owner_world["customer"].public_id.lower()})
    assert numbers(response) == [owner_world["beta"].number, owner_world["gamma"].number]
    choices = [o.name for o in response.context["organization_choices"]]
    assert choices == ["Customer AG", "Partner GmbH"]
    # issue 12: an org the user cannot reach is a 404, as everywhere else (and in the API)
    foreign = client.get(reverse("project-list"), {"organization": owner_world["foreign"].organization.public_id})
    assert foreign.status_code == 404


def test_many_reachable_orgs_turn_the_filter_into_an_identifier_field(client, owner_world, monkeypatch):
    from projects.views import ProjectListView

    monkeypatch.setattr(ProjectListView, "ORGANIZATION_CHOICES_LIMIT", 1)
    client.force_login(owner_world["owner"])
    response = client.get(reverse("project-list"))
    assert response.context["organization_choices"] is None
    assert 'placeholder="ORG-XXXX-XXXX"' in response.content.decode()


def test_pagination_keeps_search_and_filter(client, owner_world):
    for i in range(30):
        factories.project(owner_world["customer"], f"Bulk shop {i:02d}")
    client.force_login(owner_world["owner"])
    params = {"q": "bulk", "organization": owner_world["customer"].public_id}
    first = client.get(reverse("project-list"), params)
    assert len(first.context["object_list"]) == 25 and first.context["paginator"].count == 30
    html = first.content.decode()
    next_link = re.search(r'href="\?([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "q=bulk" in next_link and "organization=" in next_link and "page=2" in next_link
    second = client.get(f"{reverse('project-list')}?{next_link}")
    assert [p.name for p in second.context["object_list"]] == [f"Bulk shop {i}" for i in range(25, 30)]


def test_caretaker_projects_are_marked_in_english_and_german(client):
    customer = factories.OrganizationFactory()
    agency = factories.OrganizationFactory(name="Agency")
    cared_for = factories.project(customer, "Cared for")
    own = factories.project(agency, "Own site")
    project_grant_role(
        project=cared_for, organization=agency, role="external", source=ProjectRoleGrant.Source.DELEGATION
    )
    caretaker = factories.member(agency, OrgRole.OWNER)
    client.force_login(caretaker)
    response = client.get(reverse("project-list"))
    marks = {p.number: p.caretaker for p in response.context["object_list"]}
    assert marks == {cared_for.number: True, own.number: False}
    assert response.content.decode().count("status-caretaker") == 1
    caretaker.language = "de"
    caretaker.save()
    html = client.get(reverse("project-list")).content.decode()
    assert "Betreuer" in html and "Meine Projekte" in html


def test_a_direct_grant_to_an_org_is_not_marked_as_caretaker(client):
    customer, partner_org = factories.OrganizationFactory(), factories.OrganizationFactory()
    project = factories.project(customer)
    project_grant_role(project=project, organization=partner_org, role="viewer", source=ProjectRoleGrant.Source.DIRECT)
    client.force_login(factories.member(partner_org, OrgRole.MEMBER))
    [row] = client.get(reverse("project-list")).context["object_list"]
    assert row.number == project.number and row.caretaker is False


def test_the_list_shows_the_readers_own_role_and_end(client):
    project = factories.project(factories.OrganizationFactory())
    user = factories.UserFactory()
    from datetime import timedelta

    from django.utils import timezone

    factories.grant(project, user, ProjectRole.DEVELOPER, expires_at=timezone.now() + timedelta(days=2))
    client.force_login(user)
    html = client.get(reverse("project-list")).content.decode()
    assert "Developer" in html and "until" in html


# --- the org's list and creating projects ---------------------------------------------------


def test_the_org_list_shows_only_that_orgs_projects(client, owner_world):
    client.force_login(owner_world["owner"])
    response = client.get(reverse("organization-projects", kwargs={"org": owner_world["customer"].public_id}))
    assert numbers(response) == [owner_world["beta"].number, owner_world["gamma"].number]
    assert response.context["may_create"] is True


def test_org_members_see_only_projects_they_hold_a_role_on(client, owner_world):
    member = factories.member(owner_world["customer"], OrgRole.MEMBER)
    factories.grant(owner_world["gamma"], member, "viewer")
    client.force_login(member)
    response = client.get(reverse("organization-projects", kwargs={"org": owner_world["customer"].public_id}))
    assert numbers(response) == [owner_world["gamma"].number]
    assert response.context["may_create"] is False
    assert "New project" not in response.content.decode()


def test_create_a_project(client, owner_world):
    client.force_login(owner_world["owner"])
    url = reverse("project-create", kwargs={"org": owner_world["customer"].public_id})
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "  Delta  ", "description": "New things"})
    project = Project.objects.get(name="Delta")
    assert response.status_code == 302 and response["Location"] == reverse(
        "project-detail", kwargs={"number": project.number}
    )
    assert re.fullmatch(r"p-\d+", project.number)
    assert (project.organization, project.created_by, project.status) == (
        owner_world["customer"],
        owner_world["owner"],
        "active",
    )
    event = AuditEvent.objects.get(action="project.created")
    assert event.acting_organization == owner_world["partner"] and event.organization == owner_world["customer"]


def test_create_refuses_a_blank_or_too_long_name(client, owner_world):
    client.force_login(owner_world["owner"])
    url = reverse("project-create", kwargs={"org": owner_world["partner"].public_id})
    assert "This field is required." in client.post(url, {"name": ""}).content.decode()
    assert "This field is required." in client.post(url, {"name": "   "}).content.decode()
    assert client.post(url, {"name": "x" * 201}).status_code == 200
    assert not Project.objects.filter(organization=owner_world["partner"]).exclude(pk=owner_world["alpha"].pk).exists()


@pytest.mark.parametrize(
    "role, status", [(OrgRole.OWNER, 200), (OrgRole.ADMIN, 200), (OrgRole.MEMBER, 403), (OrgRole.GUEST, 403)]
)
def test_only_owners_and_admins_create_projects(client, role, status):
    organization = factories.OrganizationFactory()
    client.force_login(factories.member(organization, role))
    assert client.get(reverse("project-create", kwargs={"org": organization.public_id})).status_code == status


# --- one project ------------------------------------------------------------------------------


def test_the_detail_page_shows_the_users_allowed_actions(client, owner_world):
    beta = owner_world["beta"]
    viewer = factories.UserFactory()
    factories.grant(beta, viewer, "viewer")
    client.force_login(viewer)
    response = client.get(reverse("project-detail", kwargs={"number": beta.number}))
    assert response.context["allowed_actions"] == ["view"]
    html = response.content.decode()
    assert beta.number in html and "Beta intranet" in html and "Customer AG" in html
    assert "You hold the role “Viewer”" in html
    assert reverse("project-update", kwargs={"number": beta.number}) not in html
    assert reverse("project-members", kwargs={"number": beta.number}) not in html

    client.force_login(owner_world["owner"])
    response = client.get(reverse("project-detail", kwargs={"number": beta.number.upper()}))
    assert response.context["allowed_actions"] == ["view", "change", "manage_members", "order_services", "delete"]
    html = response.content.decode()
    for name in ("project-update", "project-members", "project-archive", "project-delete"):
        assert reverse(name, kwargs={"number": beta.number}) in html
    # partner staff in a customer's project see the customer org's navigation and the partner notice
    assert "You are acting as Partner GmbH staff" in html


def test_edit_a_project(client, owner_world):
    alpha = owner_world["alpha"]
    client.force_login(owner_world["owner"])
    url = reverse("project-update", kwargs={"number": alpha.number})
    assert 'value="Alpha shop"' in client.get(url).content.decode()
    response = client.post(url, {"name": "Alpha store", "description": "Renamed"})
    assert response.status_code == 302
    alpha.refresh_from_db()
    assert (alpha.name, alpha.description) == ("Alpha store", "Renamed")
    event = AuditEvent.objects.get(action="project.changed")
    assert event.before["name"] == "Alpha shop" and event.after["name"] == "Alpha store"


def test_archive_and_restore(client, owner_world):
    alpha = owner_world["alpha"]
    client.force_login(owner_world["owner"])
    client.post(reverse("project-archive", kwargs={"number": alpha.number}))
    alpha.refresh_from_db()
    assert alpha.status == "archived"
    detail = client.get(reverse("project-detail", kwargs={"number": alpha.number}))
    assert detail.context["allowed_actions"] == ["view", "delete"]
    assert "This project is archived" in detail.content.decode()
    edit = client.get(reverse("project-update", kwargs={"number": alpha.number}))
    assert edit.status_code == 409 and "Restore it first" in edit.content.decode()
    # archiving twice is refused clearly
    assert client.post(reverse("project-archive", kwargs={"number": alpha.number})).status_code == 409
    # still listed (as archived)
    assert alpha.number in numbers(client.get(reverse("project-list")))
    client.post(reverse("project-restore", kwargs={"number": alpha.number}))
    alpha.refresh_from_db()
    assert alpha.status == "active"
    assert list(AuditEvent.objects.filter(target_id=str(alpha.pk)).order_by("id").values_list("action", flat=True))[
        -2:
    ] == [
        "project.archived",
        "project.restored",
    ]


def test_delete_needs_the_number_typed(client, owner_world):
    alpha = owner_world["alpha"]
    viewer = factories.UserFactory()
    factories.grant(alpha, viewer, "viewer")
    client.force_login(owner_world["owner"])
    url = reverse("project-delete", kwargs={"number": alpha.number})
    wrong = client.post(url, {"confirm_number": "p-1"})
    assert wrong.status_code == 200 and "This is not the number of this project." in wrong.content.decode()
    assert Project.objects.filter(pk=alpha.pk).exists()
    response = client.post(url, {"confirm_number": alpha.number.upper()})
    assert response.status_code == 302 and response["Location"] == reverse("project-list")
    assert not Project.objects.filter(pk=alpha.pk).exists()
    assert not ProjectRoleGrant.objects.filter(user=viewer).exists()
    assert AuditEvent.objects.filter(action="project.deleted", target_id=str(alpha.pk)).exists()


def test_unknown_and_malformed_numbers_are_404(client, owner_world):
    client.force_login(owner_world["owner"])
    assert client.get("/projects/p-99999999/").status_code == 404
    assert client.get("/projects/42/").status_code == 404
    assert client.get("/projects/p-abc/").status_code == 404


def test_the_navigation_links_to_the_projects(client, owner_world):
    client.force_login(owner_world["owner"])
    org_page = client.get(reverse("organization-dashboard", kwargs={"org": owner_world["partner"].public_id}))
    assert (
        reverse("organization-projects", kwargs={"org": owner_world["partner"].public_id}) in org_page.content.decode()
    )
    notifications = client.get(reverse("notifications"))
    assert reverse("project-list") in notifications.content.decode()


def test_support_staff_can_look_into_projects_in_the_admin(client, owner_world):
    from django.contrib.auth.models import Permission

    support = factories.UserFactory(is_staff=True)
    support.user_permissions.add(*Permission.objects.filter(codename__in=["view_project", "view_projectrolegrant"]))
    factories.grant(
        owner_world["beta"], factories.UserFactory(email="seen@example.com", first_name="", last_name=""), "viewer"
    )
    client.force_login(support)
    listing = client.get("/admin/projects/project/", {"q": owner_world["beta"].number})
    assert listing.status_code == 200 and "Beta intranet" in listing.content.decode()
    page = client.get(f"/admin/projects/project/{owner_world['beta'].pk}/change/")
    assert page.status_code == 200 and "seen@example.com" in page.content.decode()
    assert client.get("/admin/projects/projectrolegrant/").status_code == 200
    assert client.post(f"/admin/projects/project/{owner_world['beta'].pk}/delete/", {"post": "yes"}).status_code == 403
