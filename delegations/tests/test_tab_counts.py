"""Issue 13, the delegations overview of an agency with 30,000 delegations: each tab's badge reads at
most TAB_COUNT_CAP + 1 rows (all tabs in one query) instead of every row of the org. Up to the cap
the counts must stay exactly what the tabs list."""

from __future__ import annotations

from datetime import timedelta
from itertools import count, product

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegations import selectors
from delegations.models import Delegation
from delegations.selectors import TABS, _tab_filters, delegation_list, delegation_tab_counts
from organizations.roles import OrgRole
from portal.pagination import COUNT_CAP, capped_label
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
        assert delegation_tab_counts(organization=organization, cap=1000) == expected
        capped = delegation_tab_counts(organization=organization)  # up to TAB_COUNT_CAP + 1
        assert capped == {tab: min(number, selectors.TAB_COUNT_CAP + 1) for tab, number in expected.items()}
        for tab in TABS:  # and what each tab lists
            assert delegation_list(queryset=restricted, organization=organization, tab=tab).count() == expected[tab]


def test_issue13_tab_count_statement_is_compiled_once_per_process(every_kind):
    """The five subqueries are built and compiled once (sentinels for the org and the time); each
    visit substitutes its org and the current time, so the counts follow both."""
    agency, customer = every_kind
    selectors._tab_counts_statement.cache_clear()
    first = delegation_tab_counts(organization=agency)
    second = delegation_tab_counts(organization=customer)
    info = selectors._tab_counts_statement.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert first != second  # the org is substituted, not the one compiled first
    for organization, counts in ((agency, first), (customer, second)):
        restricted = _restricted(organization)
        assert counts == {
            tab: min(restricted.filter(q).count(), selectors.TAB_COUNT_CAP + 1)
            for tab, q in _tab_filters(organization).items()
        }


def test_issue13_tab_counts_read_at_most_the_cap_per_tab(every_kind, monkeypatch):
    """Old code: one GROUP BY over every row of the org (an agency's 30,000 on each visit). Now each
    tab reads at most cap + 1 rows, all five in one query, and a tab beyond the cap says "N+"."""
    agency, _customer = every_kind
    restricted = _restricted(agency)
    expected = {tab: restricted.filter(q).count() for tab, q in _tab_filters(agency).items()}
    cap = 3
    assert max(expected.values()) > cap + 1 and min(expected.values()) <= cap, expected
    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", cap)
    with CaptureQueriesContext(connection) as queries:
        counts = delegation_tab_counts(organization=agency)
    assert counts == {tab: min(number, cap + 1) for tab, number in expected.items()}
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert "GROUP BY" not in sql and sql.count(f"LIMIT {cap + 1}") == len(TABS), sql
    assert {capped_label(number, cap) for number in counts.values() if number > cap} == {"3+"}
    assert capped_label(cap, cap) == "3"


def test_issue13_overview_badges_say_more_than_the_cap(every_kind, client, monkeypatch):
    agency, _customer = every_kind
    restricted = _restricted(agency)
    ended = restricted.filter(_tab_filters(agency)["ended"]).count()
    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", 5)
    assert ended > 6
    client.force_login(factories.member(agency, OrgRole.OWNER))
    response = client.get(reverse("delegation-list", kwargs={"org": agency.public_id}) + "?tab=ended")
    assert response.status_code == 200
    tabs = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert tabs["ended"] == "5+"
    page = response.context["page_obj"]  # the shown tab is counted on (up to COUNT_CAP)
    assert not page.paginator.capped and page.paginator.count == ended and len(page.object_list) == min(ended, 25)
    assert '<span class="badge">5+</span>' in response.content.decode()


def test_issue13_overview_pager_counts_a_long_tab_with_a_compiled_statement(every_kind, client, monkeypatch):
    """A tab beyond the badge's cap is counted on up to COUNT_CAP for its pager. That count was
    built by the ORM on every visit (~1.3 ms at scale); now it is the badges' statement for that one
    tab, compiled once per process, and still the tab's true number of rows."""
    agency, _customer = every_kind
    ended = _restricted(agency).filter(_tab_filters(agency)["ended"]).count()
    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", 5)
    assert ended > 6
    client.force_login(factories.member(agency, OrgRole.OWNER))
    url = reverse("delegation-list", kwargs={"org": agency.public_id}) + "?tab=ended"
    selectors._tab_counts_statement.cache_clear()
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    info = selectors._tab_counts_statement.cache_info()
    assert (info.misses, info.hits) == (2, 2)  # the badges' and the long tab's statement, each compiled once
    counts = [
        q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"] and "delegations_delegation" in q["sql"]
    ]
    assert len(counts) == 2, counts
    assert counts[0].count("LIMIT 6") == len(TABS) and counts[1].count(f"LIMIT {COUNT_CAP + 1}") == 1, counts
    paginator = response.context["page_obj"].paginator
    assert paginator.count == ended and not paginator.capped


def test_issue13_tab_rows_are_the_tabs_list_read_by_a_statement_compiled_once(every_kind):
    """Each tab's page is `delegation_list` of the org's delegations, slice for slice, with the
    related names and the current status the overview shows; the second org reuses the statement
    the first compiled (the ORM built the tab's filters, annotation and joins on every visit)."""
    selectors._tab_rows_query.cache_clear()
    for organization in every_kind:
        restricted = _restricted(organization)
        listed = 0
        for tab in TABS:
            expected = list(delegation_list(queryset=restricted, organization=organization, tab=tab))
            listed += len(expected)
            rows = selectors.TabRows(organization=organization, tab=tab)
            for low, high in ((0, 25), (3, 7), (len(expected), len(expected) + 5)):
                page = rows[low:high]
                assert [row.pk for row in page] == [row.pk for row in expected[low:high]], (tab, low, high)
                assert [(row.current_status, row.project.name, row.organization.name) for row in page] == [
                    (row.current_status, row.project.name, row.organization.name) for row in expected[low:high]
                ]
        assert listed > 25, listed
    info = selectors._tab_rows_query.cache_info()
    assert info.misses == len(TABS) and info.hits > 0


def test_issue13_tab_rows_refuse_what_is_not_a_page(every_kind):
    agency, _customer = every_kind
    with pytest.raises(ValueError):
        selectors.TabRows(organization=agency, tab="everything")
    rows = selectors.TabRows(organization=agency, tab="ended")
    with pytest.raises(TypeError):
        rows[3]
    assert rows[5:5] == []
