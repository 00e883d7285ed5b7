"""Issue 14.3: an id outside the database's integer range answers 404 on every route, never 500.

Walks the URL resolver like `tests/isolation.py` and puts an out-of-range value into each id kwarg
(`pk`, `…_id`) of every page and endpoint, one kwarg at a time, the others pointing at real
objects of the caller's org. `100000000000000000000` is the value of the report (past SQLite's
64-bit INTEGER, OverflowError); `9223372036854775808` is the first value past BigInt.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from organizations.roles import OrgRole
from tests import factories
from tests.isolation import OBJECT_FACTORIES, _walk, load_app_factories

HUGE_IDS = ["100000000000000000000", "9223372036854775808"]
PLACEHOLDER = 424242424242


def _is_id(kwarg: str) -> bool:
    return kwarg == "pk" or kwarg.endswith("_id")


def id_routes():
    routes = []
    for pattern, kwargs, namespace in _walk(get_resolver().url_patterns):
        if namespace.startswith("admin") or not pattern.name or "format" in kwargs or not any(map(_is_id, kwargs)):
            continue
        actions = getattr(pattern.callback, "actions", None)
        if actions:
            methods = sorted(method.upper() for method in actions)
        else:
            view_class = pattern.callback.view_class
            methods = [
                m.upper()
                for m in view_class.http_method_names
                if hasattr(view_class, m) and m not in ("options", "head")
            ]
        routes.append((f"{namespace}{pattern.name}", kwargs, methods, bool(actions)))
    return routes


ROUTES = id_routes()


def test_the_walker_finds_id_routes_of_pages_and_the_api():
    names = {name for name, *_ in ROUTES}
    assert {"offer-template-item-api-list", "offer-detail", "notification-detail", "api-project-grant-detail"} <= names


@pytest.fixture
def owner_world(db):
    load_app_factories()
    partner = factories.PartnerFactory()
    owner = factories.member(partner, OrgRole.OWNER)
    project = factories.project(partner)
    return partner, owner, project


def _kwargs(route_kwargs, huge_kwarg, org, owner, project) -> dict:
    values = {}
    for kwarg in route_kwargs:
        if kwarg == "org":
            values[kwarg] = org.public_id
        elif kwarg in ("number", "project_number"):
            values[kwarg] = project.number
        elif kwarg == huge_kwarg:
            values[kwarg] = PLACEHOLDER
        elif kwarg in OBJECT_FACTORIES:
            values[kwarg] = OBJECT_FACTORIES[kwarg](org, owner)
        else:
            values[kwarg] = PLACEHOLDER - 1  # an id kwarg without a factory: any in-range id
    return values


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route_kwargs", "methods", "is_api"), [pytest.param(*r, id=r[0]) for r in ROUTES])
def test_14_3_an_id_out_of_range_answers_404_on_every_route(
    name, route_kwargs, methods, is_api, owner_world, client, api_client
):
    org, owner, project = owner_world
    chosen = api_client if is_api else client
    chosen.force_login(owner)
    chosen.raise_request_exception = False
    failures = []
    for huge_kwarg in [k for k in route_kwargs if _is_id(k)]:
        url_template = reverse(name, kwargs=_kwargs(route_kwargs, huge_kwarg, org, owner, project))
        for huge in HUGE_IDS:
            url = url_template.replace(str(PLACEHOLDER), huge)
            for method in methods:
                response = getattr(chosen, method.lower())(url)
                if response.status_code != 404:
                    failures.append(f"{method} {url}: {response.status_code}")
                elif is_api:
                    assert response.json()["error"]["code"] == "not_found", response.content
    assert not failures, failures
