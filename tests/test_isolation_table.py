"""Issue 12: isolation against a literal, hand-written expected-status table.

`tests/isolation_expected.txt` holds one row per route and method (and the org the URL names),
one column per account of the shared world (`tests/world.py`). Every cell is the exact answer
that account must get. The table is the oracle, written and reviewed by hand against SPEC.md and
`organizations/roles.py`; nothing here derives an expectation from the code under test.

- A route the URLconf walker finds without a row fails (`test_every_route_has_a_row`); so does a
  row naming a route or method that no longer exists.
- `test_routes_answer_as_the_table_says` requests every row as every account, one test per
  group of rows (the app of the view, pages and API apart) that builds the world once: each row's
  objects in a savepoint rolled back after the row, each request in a savepoint of its own, so a
  state change by one account or row does not change what the next sees. It fails once per group
  with every mismatch: `line N: route METHOD where W (url) as account: expected X, got Y`.
- `test_foreign_id_under_own_org_is_404` puts another tenant's object id under the URL of the
  user's own org (`/o/<my-org>/offers/<foreign-offer>/`) and expects 404, never 200 nor 403
  (grouped the same way, every offending case listed).

Cells: a status code, or `login` (302 to the login page). Set ISOLATION_TABLE_DRAFT=<file> to
write the observed answers as rows to <file> instead of asserting (a first draft for new routes;
read and check every cell before pasting it into the table).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.isolation import OBJECT_FACTORIES, Route, all_routes
from tests.world import TABLE_ACCOUNTS, World

TABLE_FILE = Path(__file__).with_name("isolation_expected.txt")
DRAFT = os.environ.get("ISOLATION_TABLE_DRAFT")
WHERE = {"C": "customer", "P": "partner", "-": None}
# Own org -> the org whose objects are "foreign" there (another tenant of the same kind).
FOREIGN = {"customer": "foreign_customer", "partner": "foreign_partner"}
OWNER_OF = {
    "customer": "customer_owner",
    "partner": "partner_owner",
    "foreign_customer": "foreign_customer_owner",
    "foreign_partner": "foreign_owner",
}


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    where: str  # "C" (the partner-linked customer), "P" (the partner) or "-" (no org)
    expected: dict
    note: str
    line: int

    @property
    def id(self) -> str:
        return f"{self.route}:{self.method}@{self.where}"


def parse_table(text: str) -> list[Row]:
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line, _, note = raw.partition("#")
        if not line.strip():
            continue
        route, method, where, *cells = line.split()
        assert where in WHERE, f"{TABLE_FILE.name}:{number}: where must be one of {sorted(WHERE)}"
        assert len(cells) == len(TABLE_ACCOUNTS), (
            f"{TABLE_FILE.name}:{number}: {len(cells)} cells, expected {len(TABLE_ACCOUNTS)} ({', '.join(TABLE_ACCOUNTS)})"
        )
        rows.append(Row(route, method, where, dict(zip(TABLE_ACCOUNTS, cells, strict=True)), note.strip(), number))
    return rows


ROWS = parse_table(TABLE_FILE.read_text())
ROUTES = {(route.name, route.method): route for route in all_routes()}
ROUTE_NAMES = {route.name: route for route in ROUTES.values()}
REFUSED = {"login", "401", "403", "404", "405"}


def _route_of(row: Row) -> Route | None:
    """The route a row requests. A row may also pin a method its route does not answer (e.g.
    `POST` of a read-only view), provided every cell is a refusal such as 405: such a method
    must never start doing something unnoticed."""
    route = ROUTES.get((row.route, row.method))
    if route is None and row.route in ROUTE_NAMES and set(row.expected.values()) <= REFUSED:
        route = replace(ROUTE_NAMES[row.route], method=row.method)
    return route


def test_every_route_has_a_row():
    rowed = {(row.route, row.method) for row in ROWS}
    missing = sorted(f"{name} {method}" for name, method in ROUTES if (name, method) not in rowed)
    assert not missing, (
        f"These routes have no expected row; add one per route and method to tests/{TABLE_FILE.name} "
        f"(columns: route method where {' '.join(TABLE_ACCOUNTS)}):\n  " + "\n  ".join(missing)
    )


def test_every_row_names_an_existing_route():
    stale = [f"line {row.line}: {row.route} {row.method}" for row in ROWS if _route_of(row) is None]
    assert not stale, (
        f"Rows of tests/{TABLE_FILE.name} name routes that no longer exist, or a method the route does "
        f"not answer with a cell that is not a refusal ({', '.join(sorted(REFUSED))}):\n  " + "\n  ".join(stale)
    )


def test_no_row_twice():
    seen = [row.id for row in ROWS]
    assert len(seen) == len(set(seen)), sorted({s for s in seen if seen.count(s) > 1})


# --- building URLs --------------------------------------------------------------------------


def _object_in(world: World, kwarg: str, org_attr: str | None):
    """The value of URL kwarg `kwarg` for an object of the world's org `org_attr`."""
    organization = getattr(world, org_attr) if org_attr else world.customer
    owner = getattr(world, OWNER_OF[org_attr or "customer"])
    if kwarg == "customer":
        # The world's own linked customer, so ORG-11 (assigned or not) decides for partner Members.
        return world.customer.public_id if org_attr == "partner" else OBJECT_FACTORIES[kwarg](organization, owner)
    if kwarg in ("number", "project_number"):
        if org_attr == "customer":
            return world.delegated_project.number  # released to the agency
        from tests import factories

        return factories.project(organization, "Isolation").number
    if kwarg == "grant_id":
        from projects.models import ProjectRoleGrant
        from projects.roles import ProjectRole
        from tests import factories

        if org_attr == "customer":
            project = world.delegated_project  # its first grant: the agency's (DLG-4)
        else:
            project = organization.projects.order_by("id").first() or factories.project(organization, "Isolation")
        grant = ProjectRoleGrant.objects.filter(project=project).order_by("id").first()
        return (grant or factories.grant(project, factories.UserFactory(), ProjectRole.VIEWER)).pk
    if kwarg == "pk":  # a notification of the org's Owner
        from portal.models import Notification

        return Notification.objects.create(recipient=owner, organization=organization, kind="isolation").pk
    if kwarg == "token":
        return "no-such-token"
    if kwarg == "uidb64":
        return "MQ"
    assert kwarg in OBJECT_FACTORIES, f"register an object factory for URL kwarg {kwarg!r} (tests/isolation.py)"
    return OBJECT_FACTORIES[kwarg](organization, owner)


def _kwargs_for(world: World, route: Route, org_attr: str | None, foreign: str | None = None) -> dict:
    """URL kwargs naming `org_attr`'s objects; with `foreign`, that one kwarg names an object of
    the foreign tenant instead (while "org" stays the user's own)."""
    kwargs = {}
    for kwarg in route.kwargs:
        if kwarg == "org":
            kwargs[kwarg] = getattr(world, org_attr).public_id
        elif kwarg == foreign:
            kwargs[kwarg] = _object_in(world, kwarg, FOREIGN[org_attr or "customer"])
        else:
            kwargs[kwarg] = _object_in(world, kwarg, org_attr)
    return kwargs


class Requester:
    """One logged-in client per account and kind (page/API) for a whole group: logging in once
    instead of once per request. Each request runs in a rolled-back savepoint and the client's
    cookies are put back afterwards, so a request that logs out, cycles the session or leaves a
    message does not change what the next one sees."""

    def __init__(self, world: World):
        # Every account and its sessions first, outside any savepoint: a session row made inside
        # a rolled-back savepoint would vanish and log the client out.
        self.clients: dict[tuple[str, str], Client] = {}
        for account in TABLE_ACCOUNTS:
            user = world.account(account)
            for kind, client in (("page", Client()), ("api", APIClient())):
                if user is not None:
                    client.force_login(user)
                self.clients[(account, kind)] = client

    def status(self, route: Route, url: str, account: str) -> str:
        client = self.clients[(account, route.kind)]
        cookies = copy.deepcopy(client.cookies)
        try:
            with transaction.atomic():
                method = getattr(client, route.method.lower())
                if route.kind == "api" and route.method not in ("GET", "DELETE"):
                    response = method(url, {}, format="json")
                else:
                    response = method(url)
                transaction.set_rollback(True)  # the next account sees the world unchanged
        except Exception as error:  # the test client re-raises a view's exception: a 500, reported
            return f"500 ({type(error).__name__}: {error})"
        finally:
            client.cookies = cookies
        if response.status_code == 302 and "/accounts/login/" in response["Location"]:
            return "login"
        return str(response.status_code)


# --- the table ------------------------------------------------------------------------------


def _group_of(route: Route) -> str:
    """Rows are checked in groups (the app of the view, page or API) so the world is built once
    per group rather than once per row."""
    view = route.view
    view = getattr(view, "cls", None) or getattr(view, "view_class", None) or view
    return f"{view.__module__.split('.')[0]}-{route.kind}"


GROUPS: dict[str, list[Row]] = {}
for _row in ROWS:
    if _route_of(_row) is not None:  # a stale row is reported by its own test
        GROUPS.setdefault(_group_of(_route_of(_row)), []).append(_row)


@pytest.mark.django_db
@pytest.mark.parametrize("group", sorted(GROUPS))
def test_routes_answer_as_the_table_says(group, shared_world):
    """Every row of the group as every account. Each row's objects are made in a savepoint rolled
    back after the row, each request in a savepoint of its own, so every account of every row
    sees the same world. All mismatches are collected and reported together."""
    requester = Requester(shared_world)
    wrong = []
    for row in GROUPS[group]:
        route = _route_of(row)
        with transaction.atomic():
            url = reverse(row.route, kwargs=_kwargs_for(shared_world, route, WHERE[row.where]))
            observed = {account: requester.status(route, url, account) for account in TABLE_ACCOUNTS}
            transaction.set_rollback(True)
        if DRAFT:
            with open(DRAFT, "a") as draft:
                draft.write(f"{row.route} {row.method} {row.where} {' '.join(observed.values())}\n")
            continue
        wrong += [
            f"line {row.line}: {row.route} {row.method} where {row.where} ({url}) as {account}: "
            f"expected {row.expected[account]}, got {observed[account]}"
            for account in TABLE_ACCOUNTS
            if observed[account] != row.expected[account]
        ]
    assert not wrong, f"{len(wrong)} answers differ from tests/{TABLE_FILE.name}:\n  " + "\n  ".join(wrong)


# --- a foreign tenant's object under the user's own org --------------------------------------


def _foreign_cases(rows: list[Row]):
    """(row, kwarg, account) for every row with an object kwarg: the first account the table
    lets through with its own object asks for the foreign tenant's object instead."""
    for row in rows:
        route = _route_of(row)
        if row.where == "-":
            continue
        # A dashboard panel key names no tenant object (it is the same word in every org).
        object_kwargs = [k for k in route.kwargs if k not in ("org", "token", "uidb64", "panel")]
        candidates = ["customer_owner", "partner_admin"] if row.where == "C" else ["partner_owner"]
        allowed = [a for a in candidates if row.expected[a] not in REFUSED]
        if not allowed:
            continue
        for kwarg in object_kwargs:
            yield row, kwarg, allowed[0]


FOREIGN_GROUPS = sorted(group for group, rows in GROUPS.items() if any(_foreign_cases(rows)))


@pytest.mark.django_db
@pytest.mark.parametrize("group", FOREIGN_GROUPS)
def test_foreign_id_under_own_org_is_404(group, shared_world):
    """Never 200, never 403 (which would confirm the id exists). Where the row's own answer is a
    400 (the empty body is refused before the object is looked up), 400 reveals nothing either."""
    requester = Requester(shared_world)
    wrong = []
    for row, kwarg, account in _foreign_cases(GROUPS[group]):
        route = _route_of(row)
        with transaction.atomic():
            url = reverse(row.route, kwargs=_kwargs_for(shared_world, route, WHERE[row.where], foreign=kwarg))
            answer = requester.status(route, url, account)
            transaction.set_rollback(True)
        allowed = {"404", "400"} if row.expected[account] == "400" else {"404"}
        if answer not in allowed:
            wrong.append(
                f"line {row.line}: {row.route} {row.method} where {row.where}, foreign {kwarg} ({url}) "
                f"as {account}: expected 404, got {answer}"
            )
    assert not wrong, "A foreign tenant's id under the user's own org must answer 404:\n  " + "\n  ".join(wrong)
