"""`/api/v1/projects/`, `/api/v1/organizations/{org}/projects/` and `/api/v1/projects/{number}/grants/`
(PLT-2 for PRJ-1..PRJ-4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from organizations.models import User
from organizations.roles import OrgRole
from projects.models import Project, ProjectRoleGrant
from projects.roles import ProjectRole
from tests import factories
from tests.world import build_world

pytestmark = pytest.mark.django_db

LIST = reverse("api-project-list")


def detail(project, suffix=""):
    return reverse(f"api-project-{suffix or 'detail'}", kwargs={"number": project.number})


def grants_url(project):
    return reverse("api-project-grant-list", kwargs={"project_number": project.number})


def grant_url(project, grant):
    return reverse("api-project-grant-detail", kwargs={"project_number": project.number, "grant_id": grant.pk})


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def world(db):
    """The shared world (tests/world.py) without the agency's release, plus the partner's own
    project "Alpha", the customer's "Beta" and a project of the foreign customer."""
    world = build_world(caretaker=False, accounts=("partner_owner",))
    world.alpha = factories.project(world.partner, "Alpha")
    world.beta = factories.project(world.customer, "Beta")
    world.foreign = factories.project(world.foreign_customer, "Foreign")
    return world


# --- projects ------------------------------------------------------------------------------


def test_list_across_orgs_with_number_and_permissions(api_client, world):
    api_client.force_login(world["partner_owner"])
    body = api_client.get(LIST).json()
    assert body["count"] == 2
    alpha, beta = body["results"]
    assert alpha == {
        "number": world["alpha"].number,
        "name": "Alpha",
        "description": "",
        "status": "active",
        "organization": world["partner"].public_id,
        "organization_name": "Partner GmbH",
        "caretaker": False,
        "role": None,
        "role_expires_at": None,
        "created_at": alpha["created_at"],
    }
    # what the reader may do is part of each project's own record
    assert api_client.get(detail(world["alpha"])).json()["allowed_actions"] == [
        "view",
        "change",
        "manage_members",
        "order_services",
        "delete",
    ]
    assert beta["number"] == world["beta"].number and beta["organization"] == world["customer"].public_id


def test_filter_search_and_ordering(api_client, world):
    api_client.force_login(world["partner_owner"])
    only_customer = api_client.get(LIST, {"organization": world["customer"].public_id.lower()}).json()
    assert [row["number"] for row in only_customer["results"]] == [world["beta"].number]
    assert api_client.get(LIST, {"search": "alp"}).json()["count"] == 1
    assert api_client.get(LIST, {"search": world["beta"].number.upper()}).json()["count"] == 1
    assert api_client.get(LIST, {"search": "Foreign"}).json()["count"] == 0
    assert api_client.get(LIST, {"organization": world["foreign"].organization.public_id}).status_code == 404
    ordered = api_client.get(LIST, {"ordering": "-name"}).json()["results"]
    assert [row["name"] for row in ordered] == ["Beta", "Alpha"]
    assert api_client.get(LIST, {"status": "archived"}).json()["count"] == 0


def test_pagination(api_client, world):
    for i in range(30):
        factories.project(world["customer"], f"Bulk {i:02d}")
    api_client.force_login(world["partner_owner"])
    first = api_client.get(LIST, {"page_size": 10}).json()
    assert first["count"] == 32 and len(first["results"]) == 10 and first["next"]


def org_list(organization) -> str:
    public_id = organization if isinstance(organization, str) else organization.public_id
    return reverse("api-organization-project-list", kwargs={"org": public_id})


def test_create_in_an_org_the_caller_may_create_in(api_client, world):
    api_client.force_login(world["partner_owner"])
    response = api_client.post(org_list(world["customer"]), {"name": "Gamma", "description": "d"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    project = Project.objects.get(number=body["number"])
    assert (project.name, project.organization, project.created_by) == (
        "Gamma",
        world["customer"],
        world["partner_owner"],
    )
    assert body["allowed_actions"] == ["view", "change", "manage_members", "order_services", "delete"]


def test_issue12_create_is_no_longer_on_the_flat_list(api_client, world):
    """Issue 12: the org comes from the URL, through the tenancy choke point, not from the body."""
    api_client.force_login(world["partner_owner"])
    response = api_client.post(LIST, {"organization": world["customer"].public_id, "name": "X"}, format="json")
    assert_error(response, 405)
    assert not Project.objects.filter(name="X").exists()


@pytest.mark.parametrize("target", ["foreign", "unknown"])
def test_create_in_an_unknown_or_foreign_org_is_the_same_404(api_client, world, target):
    api_client.force_login(world["partner_owner"])
    org = world["foreign"].organization.public_id if target == "foreign" else "ORG-ZZZZ-ZZZZ"
    assert_error(api_client.post(org_list(org), {"name": "X"}, format="json"), 404)
    assert not Project.objects.filter(name="X").exists()


@pytest.mark.parametrize("role", [OrgRole.MEMBER, OrgRole.GUEST])
def test_create_without_the_capability_is_403(api_client, world, role):
    api_client.force_login(factories.member(world["customer"], role))
    assert_error(api_client.post(org_list(world["customer"]), {"name": "X"}, format="json"), 403)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "name"),
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_create_with_bad_input_names_the_field(api_client, world, payload, field):
    api_client.force_login(world["partner_owner"])
    error = assert_error(api_client.post(org_list(world["partner"]), payload, format="json"), 400)
    assert field in error["details"]
    assert Project.objects.count() == 3


def test_issue12_org_list_is_the_org_page_list(api_client, client, world):
    """Issue 12: `/api/v1/organizations/{org}/projects/` lists what `/o/<org>/projects/` lists."""
    api_client.force_login(world["partner_owner"])
    client.force_login(world["partner_owner"])
    body = api_client.get(org_list(world["customer"]), {"search": "bet"}).json()
    assert [row["number"] for row in body["results"]] == [world["beta"].number]
    page = client.get(reverse("organization-projects", kwargs={"org": world["customer"].public_id}), {"q": "bet"})
    assert [project.number for project in page.context["object_list"]] == [world["beta"].number]
    assert_error(api_client.get(org_list(world["foreign"].organization)), 404)
    assert_error(api_client.get(org_list(world["customer"]), {"status": "bogus"}), 400)


@pytest.mark.parametrize("target", ["foreign", "unknown"])
def test_issue12_unreachable_organization_filter_is_404_like_the_browser(api_client, client, world, target):
    """Issue 12: `/api/v1/projects/?organization=X` answered 200 [] where the browser answers 404."""
    org = world["foreign"].organization.public_id if target == "foreign" else "ORG-ZZZZ-ZZZZ"
    api_client.force_login(world["partner_owner"])
    client.force_login(world["partner_owner"])
    assert_error(api_client.get(LIST, {"organization": org}), 404)
    assert client.get(reverse("project-list"), {"organization": org}).status_code == 404
    assert client.get(reverse("organization-projects", kwargs={"org": org})).status_code == 404
    own = api_client.get(LIST, {"organization": world["customer"].public_id.lower()}).json()
    assert [row["number"] for row in own["results"]] == [world["beta"].number]


def test_retrieve_update_and_delete_follow_the_role(api_client, world):
    beta = world["beta"]
    developer, viewer = factories.UserFactory(), factories.UserFactory()
    factories.grant(beta, developer, ProjectRole.DEVELOPER)
    factories.grant(beta, viewer, ProjectRole.VIEWER)

    api_client.force_login(viewer)
    body = api_client.get(detail(beta)).json()
    assert body["number"] == beta.number and body["role"] == "viewer" and body["allowed_actions"] == ["view"]
    assert_error(api_client.patch(detail(beta), {"name": "Nope"}, format="json"), 403, "permission_denied")

    api_client.force_login(developer)
    response = api_client.patch(detail(beta), {"name": "Beta 2"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Beta 2"
    assert response.json()["number"] == beta.number
    assert (
        api_client.put(detail(beta), {"name": "Beta 3", "description": "x"}, format="json").json()["description"] == "x"
    )
    assert_error(api_client.patch(detail(beta), {"name": ""}, format="json"), 400)
    assert_error(api_client.delete(detail(beta)), 403)
    assert_error(api_client.post(detail(beta, "archive")), 403)

    api_client.force_login(world["partner_owner"])
    assert api_client.delete(detail(beta)).status_code == 204
    assert not Project.objects.filter(pk=beta.pk).exists()


def test_number_status_and_organization_cannot_be_changed(api_client, world):
    api_client.force_login(world["partner_owner"])
    alpha = world["alpha"]
    response = api_client.patch(
        detail(alpha),
        {"number": "p-1", "status": "archived", "organization": world["customer"].public_id},
        format="json",
    )
    assert response.status_code == 200
    alpha.refresh_from_db()
    assert (alpha.number, alpha.status, alpha.organization) == (response.json()["number"], "active", world["partner"])


def test_archive_and_restore(api_client, world):
    api_client.force_login(world["partner_owner"])
    alpha = world["alpha"]
    body = api_client.post(detail(alpha, "archive")).json()
    assert body["status"] == "archived" and body["allowed_actions"] == ["view", "delete"]
    assert_error(api_client.post(detail(alpha, "archive")), 409, "invalid_transition")
    assert_error(api_client.patch(detail(alpha), {"name": "x"}, format="json"), 409, "project_archived")
    assert api_client.post(detail(alpha, "restore")).json()["status"] == "active"


def test_unknown_foreign_and_malformed_numbers_are_404(api_client, world):
    api_client.force_login(world["partner_owner"])
    assert_error(api_client.get(detail(world["foreign"])), 404, "not_found")
    assert_error(api_client.delete(detail(world["foreign"])), 404)
    assert_error(api_client.get("/api/v1/projects/p-99999999/"), 404)
    assert api_client.get("/api/v1/projects/12/").status_code == 404
    assert Project.objects.filter(pk=world["foreign"].pk).exists()


def test_token_authentication_works_and_anonymous_is_401(api_client, world):
    from rest_framework.authtoken.models import Token

    assert_error(api_client.get(LIST), 401)
    token = Token.objects.create(user=world["partner_owner"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get(LIST).json()["count"] == 2


# --- role grants ------------------------------------------------------------------------------


def test_grants_list_create_update_delete(api_client, world, django_capture_on_commit_callbacks):
    from django.core import mail

    beta = world["beta"]
    api_client.force_login(world["partner_owner"])
    until = timezone.now() + timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            grants_url(beta),
            {"email": "New.Person@Example.com", "role": "developer", "expires_at": until.isoformat(), "language": "de"},
            format="json",
        )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["email"] == "new.person@example.com" and created["role"] == "developer"
    assert created["source"] == "direct" and created["in_force"] is True
    assert parse_datetime(created["expires_at"]) == until
    assert len(mail.outbox) == 1 and "Passwort" in mail.outbox[0].subject
    assert not User.objects.get(email="new.person@example.com").memberships.exists()

    listed = api_client.get(grants_url(beta)).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == created["id"]

    grant = ProjectRoleGrant.objects.get(pk=created["id"])
    changed = api_client.patch(grant_url(beta, grant), {"role": "admin"}, format="json").json()
    assert changed["role"] == "admin" and parse_datetime(changed["expires_at"]) == until  # kept
    cleared = api_client.patch(grant_url(beta, grant), {"expires_at": None}, format="json").json()
    assert cleared["expires_at"] is None and cleared["role"] == "admin"
    assert api_client.put(grant_url(beta, grant), {"role": "viewer"}, format="json").json()["role"] == "viewer"
    assert ProjectRoleGrant.objects.get(pk=grant.pk).user_permissions.count() == 1

    assert api_client.delete(grant_url(beta, grant)).status_code == 204
    assert not ProjectRoleGrant.objects.filter(pk=grant.pk).exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"role": "viewer"}, "email"),
        ({"email": "nope", "role": "viewer"}, "email"),
        ({"email": "a@example.com", "role": "owner"}, "role"),
        ({"email": "a@example.com"}, "role"),
        ({"email": "a@example.com", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"email": "a@example.com", "role": "viewer", "expires_at": "soon"}, "expires_at"),
        ({"email": "a@example.com", "role": "viewer", "language": "fr"}, "language"),
    ],
)
def test_grant_create_with_bad_input_names_the_field(api_client, world, payload, field):
    api_client.force_login(world["partner_owner"])
    error = assert_error(api_client.post(grants_url(world["beta"]), payload, format="json"), 400)
    assert field in error["details"]
    assert not ProjectRoleGrant.objects.exists()
    assert not User.objects.filter(email="a@example.com").exists()


def test_grant_update_refuses_a_past_end(api_client, world):
    beta = world["beta"]
    grant = factories.grant(beta, factories.UserFactory(), "viewer")
    api_client.force_login(world["partner_owner"])
    error = assert_error(
        api_client.patch(grant_url(beta, grant), {"expires_at": "2001-01-01T00:00:00Z"}, format="json"), 400
    )
    assert "expires_at" in error["details"]


def test_grants_of_another_project_are_not_reachable_through_this_one(api_client, world):
    alpha, beta = world["alpha"], world["beta"]
    grant = factories.grant(alpha, factories.UserFactory(), "viewer")
    api_client.force_login(world["partner_owner"])
    assert_error(api_client.get(grant_url(beta, grant)), 404)
    assert_error(api_client.delete(grant_url(beta, grant)), 404)
    assert ProjectRoleGrant.objects.filter(pk=grant.pk).exists()


def test_grants_need_manage_members(api_client, world):
    beta = world["beta"]
    developer = factories.UserFactory()
    factories.grant(beta, developer, "developer")
    api_client.force_login(developer)
    assert_error(api_client.get(grants_url(beta)), 403)
    assert_error(api_client.post(grants_url(beta), {"email": "x@example.com", "role": "admin"}, format="json"), 403)
    assert not User.objects.filter(email="x@example.com").exists()


# --- OpenAPI ----------------------------------------------------------------------------------


def test_everything_is_in_the_openapi_schema_without_warnings(client, capsys):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    output = capsys.readouterr()
    warnings = [line for line in (output.out + output.err).splitlines() if "project" in line.lower()]
    assert warnings == []
    paths = schema["paths"]
    for path in (
        "/api/v1/projects/",
        "/api/v1/projects/{number}/",
        "/api/v1/projects/{number}/archive/",
        "/api/v1/projects/{number}/restore/",
        "/api/v1/projects/{project_number}/grants/",
        "/api/v1/projects/{project_number}/grants/{grant_id}/",
        "/api/v1/organizations/{org}/projects/",
    ):
        assert path in paths, path
    list_parameters = {p["name"] for p in paths["/api/v1/projects/"]["get"]["parameters"]}
    assert {"organization", "search", "page", "status"} <= list_parameters
    project_schema = schema["components"]["schemas"]["Project"]
    assert "number" in project_schema["properties"] and "number" in project_schema.get("required", [])
    assert client.get("/api/schema/").status_code == 200


def test_options_and_head_are_answered_without_errors(api_client, client, world):
    beta = world["beta"]
    viewer = factories.UserFactory()
    factories.grant(beta, viewer, "viewer")
    api_client.force_login(viewer)
    assert api_client.options(detail(beta)).status_code == 200
    assert api_client.options(LIST).status_code == 200
    assert api_client.options(grants_url(beta)).status_code == 200
    # describing the endpoint says nothing about a project one may not see
    foreign = api_client.options(detail(world["foreign"]))
    missing = api_client.options("/api/v1/projects/p-99999999/")
    assert foreign.json() == missing.json() and "actions" not in foreign.json()
    assert api_client.options(grants_url(world["foreign"])).status_code == 404
    client.force_login(viewer)
    assert client.head(reverse("project-detail", kwargs={"number": beta.number})).status_code == 200
    assert client.head(reverse("project-update", kwargs={"number": beta.number})).status_code == 403
