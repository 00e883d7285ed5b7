"""Issue 12: isolation against a literal, hand-written expected-status table.

`tests/isolation_expected.txt` holds one row per route and method (and the org the URL names),
one column per account of the shared world (`tests/world.py`). Every cell is the exact answer
that account must get. The table is the oracle, written and reviewed by hand against SPEC.md and
`organizations/roles.py`; nothing here derives an expectation from the code under test.

- A route the URLconf walker finds without a row fails (`test_every_route_has_a_row`); so does a
  row naming a route or method that no longer exists.
- `test_route_answers_as_the_table_says` requests every row as every account (each request in a
  rolled-back savepoint, so a state change by one account does not change what the next sees).
- `test_foreign_id_under_own_org_is_404` puts another tenant's object id under the URL of the
  user's own org (`/o/<my-org>/offers/<foreign-offer>/`) and expects 404, never 200 nor 403.

Cells: a status code, or `login` (302 to the login page). Set ISOLATION_TABLE_DRAFT=<file> to
write the observed answers as rows to <file> instead of asserting (a first draft for new routes;
read and check every cell before pasting it into the table).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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


def test_every_route_has_a_row():
    rowed = {(row.route, row.method) for row in ROWS}
    missing = sorted(f"{name} {method}" for name, method in ROUTES if (name, method) not in rowed)
    assert not missing, (
        f"These routes have no expected row; add one per route and method to tests/{TABLE_FILE.name} "
        f"(columns: route method where {' '.join(TABLE_ACCOUNTS)}):\n  " + "\n  ".join(missing)
    )


def test_every_row_names_an_existing_route():
    stale = [f"line {row.line}: {row.route} {row.method}" for row in ROWS if (row.route, row.method) not in ROUTES]
    assert not stale, f"Rows of tests/{TABLE_FILE.name} name routes that no longer exist:\n  " + "\n  ".join(stale)


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


def _status(world: World, route: Route, url: str, account: str) -> str:
    client = APIClient() if route.kind == "api" else Client()
    user = world.account(account)
    if user is not None:
        client.force_login(user)
    with transaction.atomic():
        method = getattr(client, route.method.lower())
        if route.kind == "api" and route.method not in ("GET", "DELETE"):
            response = method(url, {}, format="json")
        else:
            response = method(url)
        transaction.set_rollback(True)  # the next account sees the world unchanged
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    return str(response.status_code)


# --- the table ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ROWS])
def test_route_answers_as_the_table_says(row, shared_world):
    route = ROUTES.get((row.route, row.method))
    if route is None:
        pytest.skip("stale row (test_every_row_names_an_existing_route fails)")
    url = reverse(row.route, kwargs=_kwargs_for(shared_world, route, WHERE[row.where]))
    observed = {account: _status(shared_world, route, url, account) for account in TABLE_ACCOUNTS}
    if DRAFT:
        with open(DRAFT, "a") as draft:
            draft.write(f"{row.route} {row.method} {row.where} {' '.join(observed.values())}\n")
        return
    wrong = {
        a: f"expected {row.expected[a]}, got {observed[a]}" for a in TABLE_ACCOUNTS if observed[a] != row.expected[a]
    }
    assert not wrong, f"{row.id} ({url}), tests/{TABLE_FILE.name} line {row.line}: {wrong}"


# --- a foreign tenant's object under the user's own org --------------------------------------

REFUSED = {"login", "401", "403", "404", "405"}

# Foreign ids that do not answer 404 today (suspected bugs, listed in the issue-12 report). Strict:
# the test fails once the route answers 404, so the entry is removed with the fix.
KNOWN_FOREIGN_ID_BUGS = {
    "offer-template-item-api-list:GET@P:template_id": "200 with an empty list for a foreign template",
}


def _foreign_cases():
    """(row, kwarg, account) for every row with an object kwarg: the first account the table
    lets through with its own object asks for the foreign tenant's object instead."""
    for row in ROWS:
        route = ROUTES.get((row.route, row.method))
        if route is None or row.where == "-":
            continue
        object_kwargs = [k for k in route.kwargs if k not in ("org", "token", "uidb64")]
        candidates = ["customer_owner", "partner_admin"] if row.where == "C" else ["partner_owner"]
        allowed = [a for a in candidates if row.expected[a] not in REFUSED]
        if not allowed:
            continue
        for kwarg in object_kwargs:
            case = f"{row.id}:{kwarg}"
            bug = KNOWN_FOREIGN_ID_BUGS.get(case)
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            yield pytest.param(row, kwarg, allowed[0], id=f"{case}:{allowed[0]}", marks=marks)


@pytest.mark.django_db
@pytest.mark.parametrize("row, kwarg, account", list(_foreign_cases()))
def test_foreign_id_under_own_org_is_404(row, kwarg, account, shared_world):
    """Never 200, never 403 (which would confirm the id exists). Where the row's own answer is a
    400 (the empty body is refused before the object is looked up), 400 reveals nothing either."""
    route = ROUTES[(row.route, row.method)]
    url = reverse(row.route, kwargs=_kwargs_for(shared_world, route, WHERE[row.where], foreign=kwarg))
    answer = _status(shared_world, route, url, account)
    allowed = {"404", "400"} if row.expected[account] == "400" else {"404"}
    assert answer in allowed, f"{row.id} as {account}: {url} answered {answer}, expected 404"
