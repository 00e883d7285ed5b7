"""Generic isolation over every cross-org project page and endpoint (NetBox-style ViewTestCases).

The org-scoped project pages (`/o/<org>/projects/…`) are covered by `tests/test_isolation.py`.
Here the walker finds every route of the projects app without an `org` kwarg, reads the project
action each method needs (`project_actions` on the view or viewset) and requests it as anonymous,
as an unrelated user, and as every way of holding (or not holding) a role on the project. The
answer must match the role table in `projects.roles`: no access → 404, access without the
action → 403, with the action → handled (never 401/403/404/405, never a 5xx).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.api.viewsets import ScopedMixin
from projects.models import Project
from projects.roles import role_allows
from projects.services import project_archive
from projects.views import ProjectScopedMixin
from tests import factories
from tests.world import build_world

from .people import EXPECTED_ROLE, person_of

pytestmark = pytest.mark.django_db

# Routes that list or create across orgs: no project in the URL, nothing to hide.
CROSS_ORG_COLLECTIONS = {"project-list", "api-project-list"}


@dataclass(frozen=True)
class ProjectRoute:
    name: str
    kind: str  # "page" | "api"
    method: str
    action: str
    kwargs: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.method}:{self.name}"


def _walk(patterns, prefix=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + tuple(entry.pattern.regex.groupindex))
        elif isinstance(entry, URLPattern):
            yield entry, prefix + tuple(entry.pattern.regex.groupindex)


def _is_projects_app(callback) -> bool:
    owner = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return owner is not None and owner.__module__.startswith("projects.")


def project_routes() -> tuple[list[ProjectRoute], set[str]]:
    routes, collections = [], set()
    for pattern, kwargs in _walk(get_resolver().url_patterns):
        if not _is_projects_app(pattern.callback) or "org" in kwargs or "format" in kwargs:
            continue
        view_class = getattr(pattern.callback, "view_class", None)
        viewset = getattr(pattern.callback, "cls", None)
        if pattern.name in CROSS_ORG_COLLECTIONS:
            collections.add(pattern.name)
            continue
        if view_class is not None:
            assert issubclass(view_class, ProjectScopedMixin), f"{pattern.name} must use ProjectScopedMixin"
            for method, action in view_class.project_actions.items():
                routes.append(ProjectRoute(pattern.name, "page", method, action, kwargs))
        else:
            assert issubclass(viewset, ScopedMixin), f"{pattern.name} must use the scoped API base classes"
            for method, view_action in pattern.callback.actions.items():
                action = viewset.project_actions[view_action]  # KeyError: declare the action it needs
                routes.append(ProjectRoute(pattern.name, "api", method.upper(), action, kwargs))
    return routes, collections


ROUTES, COLLECTIONS = project_routes()
PEOPLE = list(EXPECTED_ROLE)


def test_the_walker_finds_every_project_route():
    names = {route.name for route in ROUTES}
    assert {
        "project-detail",
        "project-update",
        "project-archive",
        "project-restore",
        "project-delete",
        "project-members",
        "project-member-change",
        "project-member-remove",
        "api-project-detail",
        "api-project-archive",
        "api-project-restore",
        "api-project-grant-list",
        "api-project-grant-detail",
    } <= names
    assert COLLECTIONS == CROSS_ORG_COLLECTIONS


def _prepare(route: ProjectRoute, world) -> str:
    """The URL of `route` for the world's project (archived first where the route restores)."""
    if route.name.endswith("restore"):
        project_archive(project=world.delegated_project, actor=None)
    kwargs = {}
    for kwarg in route.kwargs:
        if kwarg in ("number", "project_number"):
            kwargs[kwarg] = world.delegated_project.number
        elif kwarg == "grant_id":
            kwargs[kwarg] = factories.grant(world.delegated_project, factories.UserFactory(), "viewer").pk
        else:
            raise AssertionError(f"no value for URL kwarg {kwarg!r} of {route.name}")
    return reverse(route.name, kwargs=kwargs)


def _request(route, client, api_client, url, user=None):
    chosen = api_client if route.kind == "api" else client
    if user is not None:
        chosen.force_login(user)
    method = getattr(chosen, route.method.lower())
    if route.kind == "api" and route.method in ("POST", "PUT", "PATCH"):
        return method(url, {}, format="json")
    return method(url)


@pytest.mark.parametrize("route", [pytest.param(r, id=r.id) for r in ROUTES])
def test_anonymous_is_refused(route, client, api_client):
    world = build_world()
    response = _request(route, client, api_client, _prepare(route, world))
    if route.kind == "api":
        assert response.status_code == 401, response.content
    else:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Project.objects.filter(pk=world.delegated_project.pk).exists()


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("route", [pytest.param(r, id=r.id) for r in ROUTES])
def test_each_person_gets_what_the_role_table_says(route, person, client, api_client):
    world = build_world()
    url = _prepare(route, world)
    user = person_of(world, person)
    response = _request(route, client, api_client, url, user)

    role = EXPECTED_ROLE[person]
    if role is None:
        assert response.status_code == 404, (response.status_code, response.content[:300])
    elif role_allows(role, route.action):
        assert response.status_code not in (401, 403, 404, 405), (response.status_code, response.content[:300])
        assert response.status_code < 500
    else:
        assert response.status_code == 403, (response.status_code, response.content[:300])
        assert Project.objects.filter(pk=world.delegated_project.pk, name=world.delegated_project.name).exists()


@pytest.mark.parametrize("name", sorted(CROSS_ORG_COLLECTIONS))
def test_cross_org_lists_need_a_login_and_show_nothing_foreign(name, client, api_client):
    world = build_world()
    url = reverse(name)
    if name.startswith("api-"):
        assert api_client.get(url).status_code == 401
        assert api_client.post(url, {}, format="json").status_code == 401
    else:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for person, role in EXPECTED_ROLE.items():
        user = person_of(world, person)
        if name.startswith("api-"):
            api_client.force_login(user)
            numbers = {row["number"] for row in api_client.get(url).json()["results"]}
        else:
            client.force_login(user)
            numbers = {project.number for project in client.get(url).context["object_list"]}
        assert (world.delegated_project.number in numbers) == (role is not None), person
