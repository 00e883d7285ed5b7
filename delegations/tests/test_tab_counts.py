"""Issue 13, the delegations overview of an agency with 30,000 delegations: the tab counts group the
rows by what decides the tabs (a handful of groups) instead of testing every row against each
tab's filter. The counts must stay exactly what the tabs list."""

from __future__ import annotations

from datetime import timedelta
from itertools import count, product

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delegations.models import Delegation
from delegations.selectors import TABS, _tab_filters, delegation_list, delegation_tab_counts
from organizations.roles import OrgRole
from portal.tenancy import Scope, org_context_for_organization, restrict
from tests import factories

pytestmark = pytest.mark.django_db

Status, Direction = Delegation.Status, Delegation.Direction


@pytest.fixture
def every_kind():
    """Delegations of every status, direction, side and time (response time and end passed or
    not) between an agency and a customer, plus rows of other orgs."""
    agency = factories.OrganizationFactory(name="Agentur")
    customer = factories.OrganizationFactory(name="Kunde")
    other = factories.OrganizationFactory(name="Andere Agentur")
    now = timezone.now()
    numbers = count(1)
    rows = []
    for status, direction, agency_side, respond, ends in product(
        Status.values,
        Direction.values,
        ("caretaker", "project"),
        (now - timedelta(hours=1), now + timedelta(days=2)),
        (None, now - timedelta(hours=1), now + timedelta(days=9)),
    ):
        project_org, caretaker = (customer, agency) if agency_side == "caretaker" else (agency, other)
        if direction == Direction.RELEASE and status == Status.PENDING and agency_side == "project":
            caretaker = None  # a release not accepted yet
        project = factories.project(project_org, f"Projekt {next(numbers)}")
        rows.append(
            Delegation(
                project=project,
                organization=project_org,
                requested_number=project.number,
                caretaker=caretaker,
                direction=direction,
                invited_email="agentur@example.com" if direction == Direction.RELEASE else "",
                status=status,
                respond_by=respond,
                ends_at=ends,
            )
        )
    Delegation.objects.bulk_create(rows)
    return agency, customer


def _restricted(organization):
    owner = factories.member(organization, OrgRole.OWNER)
    context = org_context_for_organization(owner, organization)
    return restrict(Delegation.objects.all(), Scope(user=owner, context=context))


def test_issue13_tab_counts_equal_the_tab_filters(every_kind):
    for organization in every_kind:
        restricted = _restricted(organization)
        expected = {tab: restricted.filter(q).count() for tab, q in _tab_filters(organization).items()}
        assert sum(expected.values()) > 10, expected
        assert delegation_tab_counts(queryset=restricted, organization=organization) == expected
        for tab in TABS:  # and what each tab lists
            assert delegation_list(queryset=restricted, organization=organization, tab=tab).count() == expected[tab]


def test_issue13_tab_counts_group_the_rows_instead_of_filtering_each_per_tab(every_kind):
    """Old code: one COUNT(...) FILTER (WHERE <tab>) per tab, every row tested against all five."""
    agency, _customer = every_kind
    restricted = _restricted(agency)
    with CaptureQueriesContext(connection) as queries:
        delegation_tab_counts(queryset=restricted, organization=agency)
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert "GROUP BY" in sql and "FILTER" not in sql
