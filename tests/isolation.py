"""Generic isolation test cases over every organization page and endpoint (NetBox's ViewTestCases).

`org_routes()` walks the URL resolver and returns every route that takes an `org` URL kwarg, with
the capability each HTTP method needs (read from the view: `capability` on browser views,
`capabilities[action]`/`default_capability` on API viewsets). `tests/test_isolation.py` then
requests each one as anonymous, as a member of another org, and as every role, in a partner org
and in a partner-linked customer org, and compares the answer with the role table. A new view is
covered the moment it is routed; a route with an unknown URL kwarg fails until its app registers
an object factory in `OBJECT_FACTORIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# URL kwarg -> factory(org, owner_user) returning the kwarg's value for an object inside `org`.
# Apps register theirs here (e.g. "member_id": lambda org, owner: …).
OBJECT_FACTORIES: dict[str, Callable] = {}


def load_app_factories() -> None:
    """Import `<app>/tests/isolation.py` of every app, where apps register their factories."""
    from importlib import import_module

    for app in ("organizations", "projects", "delegations", "offers", "billing", "invoices"):
        try:
            import_module(f"{app}.tests.isolation")
        except ModuleNotFoundError as error:
            if error.name != f"{app}.tests.isolation":
                raise


def object_factory(kwarg: str):
    def register(func):
        OBJECT_FACTORIES[kwarg] = func
        return func

    return register


@dataclass(frozen=True)
class Route:
    name: str
    kind: str  # "page" or "api"
    method: str
    capability: str | None
    kwargs: tuple[str, ...]
    view: object
    # Hands out a private file (portal/files.py): every refusal is 404, anonymous included.
    private_file: bool = False
    # The URL's object belongs to one user (e.g. a customer export): the role grants the page, but
    # only the object's user gets it; everyone else 404 (the view's `requester_only`).
    requester_only: bool = False

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.method}:{self.name}"


def _walk(patterns, prefix_kwargs=(), namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            kwargs = prefix_kwargs + tuple(entry.pattern.regex.groupindex)
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, kwargs, ns)
        elif isinstance(entry, URLPattern):
            yield entry, prefix_kwargs + tuple(entry.pattern.regex.groupindex), namespace


def org_routes() -> list[Route]:
    from portal.api.viewsets import ScopedMixin
    from portal.views import OrgScopedMixin

    load_app_factories()
    routes: list[Route] = []
    for pattern, kwargs, namespace in _walk(get_resolver().url_patterns):
        if "org" not in kwargs or not pattern.name or "format" in kwargs:
            continue
        callback = pattern.callback
        name = f"{namespace}{pattern.name}"
        view_class = getattr(callback, "view_class", None)
        viewset_class = getattr(callback, "cls", None)
        if view_class is not None and issubclass(view_class, OrgScopedMixin):
            methods = [
                m.upper()
                for m in view_class.http_method_names
                if hasattr(view_class, m) and m not in ("options", "head")
            ]
            for method in methods:
                routes.append(
                    Route(
                        name,
                        "page",
                        method,
                        view_class.capability,
                        kwargs,
                        view_class,
                        private_file=getattr(view_class, "private_file", False),
                        requester_only=getattr(view_class, "requester_only", False),
                    )
                )
        elif viewset_class is not None and issubclass(viewset_class, ScopedMixin):
            for method, action in (getattr(callback, "actions", None) or {}).items():
                capability = viewset_class.capabilities.get(action, viewset_class.default_capability)
                routes.append(
                    Route(
                        name,
                        "api",
                        method.upper(),
                        capability,
                        kwargs,
                        viewset_class,
                        private_file=action in getattr(viewset_class, "private_file_actions", ()),
                    )
                )
        else:
            raise AssertionError(
                f"Route {name!r} takes an org but does not go through the tenancy base classes "
                f"(portal.views.OrgScopedMixin / portal.api.viewsets.ScopedMixin)."
            )
    return routes


# --- Every route, for the literal expected-status table (tests/isolation_expected.txt) -----------


def _methods_of(callback) -> tuple[str, list[str]]:
    """("page"|"api", the HTTP methods the view answers), read from the view itself."""
    from rest_framework.views import APIView

    viewset_class = getattr(callback, "cls", None)
    actions = getattr(callback, "actions", None)
    if viewset_class is not None and actions:
        return "api", [method.upper() for method in actions]
    view_class = getattr(callback, "view_class", None) or viewset_class
    if view_class is not None:
        kind = "api" if issubclass(view_class, APIView) else "page"
        methods = [m for m in view_class.http_method_names if hasattr(view_class, m) and m not in ("options", "head")]
        return kind, [m.upper() for m in methods]
    # A function view: the methods its `require_http_methods` decorator allows, else GET and POST.
    allowed = _function_view_methods(callback)
    return "page", allowed


def _function_view_methods(callback) -> list[str]:
    closure = getattr(callback, "__closure__", None) or ()
    for cell in closure:
        value = cell.cell_contents
        if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v.isupper() for v in value):
            return [m for m in value if m not in ("HEAD", "OPTIONS")]
    return ["GET", "POST"]


def all_routes() -> list[Route]:
    """Every named route of the URLconf outside the Django admin, with every method its view
    answers; org-scoped ones carry their capability like `org_routes()`."""
    load_app_factories()
    by_id = {route.id: route for route in org_routes()}
    routes: list[Route] = []
    for pattern, kwargs, namespace in _walk(get_resolver().url_patterns):
        if not pattern.name or "format" in kwargs or namespace.startswith("admin:"):
            continue
        name = f"{namespace}{pattern.name}"
        kind, methods = _methods_of(pattern.callback)
        for method in methods:
            route = Route(name, kind, method, None, kwargs, pattern.callback)
            routes.append(by_id.get(route.id, route))
    return routes
