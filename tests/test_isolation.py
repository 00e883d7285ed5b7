"""Every organization page and endpoint: anonymous, other tenant, each role (see isolation.py).

A second net behind the literal table of tests/test_isolation_table.py: here the expectations are
read from the role table (`organizations/roles.py`), so it follows a route through every role in
both kinds of org, while the table pins the exact answer per account."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizations.roles import OrgRole
from portal.tenancy import org_context_for_organization
from tests import factories
from tests.isolation import OBJECT_FACTORIES, org_routes

ROUTES = org_routes()
PAGES_AND_ENDPOINTS = [pytest.param(route, id=route.id) for route in ROUTES]


def test_the_walker_finds_the_organization_routes():
    names = {route.name for route in ROUTES}
    assert "organization-dashboard" in names


def _url(route, org, owner):
    kwargs = {"org": org.public_id}
    for kwarg in route.kwargs:
        if kwarg == "org":
            continue
        assert kwarg in OBJECT_FACTORIES, f"register an object factory for URL kwarg {kwarg!r} (tests/isolation.py)"
        kwargs[kwarg] = OBJECT_FACTORIES[kwarg](org, owner)
    return reverse(route.name, kwargs=kwargs)


def _request(client, route, url):
    method = getattr(client, route.method.lower())
    if route.kind == "api":
        return method(url, {}, format="json") if route.method not in ("GET", "DELETE") else method(url)
    return method(url)


@pytest.fixture
def world(shared_world):
    """The shared world (tests/world.py); strangers are the direct customer's and the foreign
    partner's Owners."""
    world = shared_world
    world.stranger = world.direct_owner
    world.stranger_partner = world.foreign_owner
    return world


def _client(route, client, api_client, user=None):
    chosen = api_client if route.kind == "api" else client
    if user is not None:
        chosen.force_login(user)
    return chosen


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGES_AND_ENDPOINTS)
@pytest.mark.parametrize("where", ["partner", "customer"])
def test_anonymous_is_refused(route, where, world, client, api_client):
    url = _url(route, world[where], world[f"{where}_owner"])
    response = _request(_client(route, client, api_client), route, url)
    if route.private_file:
        assert response.status_code == 404, response.content[:300]
    elif route.kind == "api":
        assert response.status_code == 401, response.content
    else:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGES_AND_ENDPOINTS)
@pytest.mark.parametrize("where", ["partner", "customer"])
@pytest.mark.parametrize("stranger", ["stranger", "stranger_partner"])
def test_other_tenants_get_404(route, where, stranger, world, client, api_client):
    url = _url(route, world[where], world[f"{where}_owner"])
    response = _request(_client(route, client, api_client, world[stranger]), route, url)
    assert response.status_code == 404, response.content


ROLE_CASES = [
    # (org the request acts in, how the user gets there)
    ("partner", "direct"),
    ("customer", "direct"),  # the customer's own accounts (ORG-6 gate applies)
    ("customer", "via_partner"),  # partner staff acting in the linked customer
]


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGES_AND_ENDPOINTS)
@pytest.mark.parametrize("where, how", ROLE_CASES)
@pytest.mark.parametrize("role", list(OrgRole.values))
def test_each_role_gets_what_the_role_table_says(route, where, how, role, world, client, api_client):
    org = world[where]
    if how == "direct":
        user = factories.member(org, role)
    else:
        user = factories.member(world["partner"], role)
        factories.assign(user, world["partner"], org) if role in (OrgRole.MEMBER, OrgRole.GUEST) else None
    url = _url(route, org, world[f"{where}_owner"])
    response = _request(_client(route, client, api_client, user), route, url)

    context = org_context_for_organization(user, org)
    if route.requester_only and context.has(route.capability):
        # the object is the org Owner's (the factory's), never this new user's
        assert response.status_code == 404, response.content[:300]
    elif route.capability is None or context.has(route.capability):
        assert response.status_code not in (401, 403, 404, 405), (response.status_code, response.content[:300])
        assert response.status_code < 500
    elif context.hides(route.capability) or route.private_file:
        assert response.status_code == 404, response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]
