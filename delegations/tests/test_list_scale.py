"""Issue 13, the delegations API for an agency (6x a bare page at 30,000 delegations): the list's
default order (newest first) sorted every one of the agency's rows, with the project and both
orgs joined on, to return 25. Now the page comes from the `delegation_newest_first` index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delegations.models import Delegation
from delegations.selectors import TAB_COUNT_CAP
from organizations.models import Organization
from organizations.roles import OrgKind, OrgRole
from portal.pagination import COUNT_CAP
from projects.models import Project
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL plans"),
]

ROWS = 3000


@pytest.fixture
def busy_agency():
    """An agency with thousands of delegations (nearly all of the table), and a small one."""
    customer = factories.OrganizationFactory(name="Viele Projekte GmbH")
    agency, small = Organization.objects.bulk_create(
        [
            Organization(name="Große Agentur", kind=OrgKind.CUSTOMER, country="DE"),
            Organization(name="Kleine Agentur", kind=OrgKind.CUSTOMER, country="DE"),
        ]
    )
    projects = Project.objects.bulk_create(
        Project(organization=customer, name=f"Projekt {index:05d}", number=f"p-{index + 300000}")
        for index in range(ROWS + 10)
    )
    now = timezone.now()
    Delegation.objects.bulk_create(
        Delegation(
            project=project,
            organization=customer,
            requested_number=project.number,
            caretaker=agency if index < ROWS else small,
            direction=Delegation.Direction.REQUEST,
            status=Delegation.Status.REVOKED if index % 2 else Delegation.Status.ACTIVE,
            respond_by=now + timedelta(days=1),
            ends_at=now + timedelta(days=30 + index % 300),
            created_at=now - timedelta(minutes=(index * 7919) % ROWS),
        )
        for index, project in enumerate(projects)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE delegations_delegation")
    return agency, small


def _list(api_client, organization):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(f"/api/v1/organizations/{organization.public_id}/delegations/")
    assert response.status_code == 200, response.content[:300]
    [page] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "delegations_delegation"."id"')]
    return response.json(), page


def test_issue13_agency_delegation_api_page_walks_the_newest_first_index(busy_agency, api_client):
    agency, small = busy_agency
    api_client.force_authenticate(factories.member(agency, OrgRole.OWNER))
    data, sql = _list(api_client, agency)
    # counted up to COUNT_CAP only: the agency's rows are not all read for a total
    assert ROWS > COUNT_CAP and data["count"] is None and data["count_capped"] is True
    newest = list(
        Delegation.objects.filter(caretaker=agency).order_by("-created_at", "-id").values_list("pk", flat=True)[:25]
    )
    assert [row["id"] for row in data["results"]] == newest
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # old plan: Seq Scan of every delegation, the project and both orgs hashed on, then a Sort
    assert "delegation_newest_first" in plan, plan
    assert "Sort" not in plan and "Seq Scan on delegations_delegation" not in plan, plan

    # a small agency still gets exactly its own rows
    api_client.force_authenticate(factories.member(small, OrgRole.OWNER))
    data, _sql = _list(api_client, small)
    assert data["count"] == 10 and all(row["id"] for row in data["results"])


def test_issue13_overview_counts_the_tabs_and_the_shown_tab_up_to_their_caps(busy_agency, client):
    """The badges count every tab up to TAB_COUNT_CAP in one query ("99+"); the shown tab's pager
    counts on up to COUNT_CAP ("more than 1,000 entries") – no exact count of the agency's rows."""
    from django.urls import reverse

    agency, _small = busy_agency
    client.force_login(factories.member(agency, OrgRole.OWNER))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("delegation-list", kwargs={"org": agency.public_id}) + "?tab=managed")
    assert response.status_code == 200
    page = response.context["page_obj"]
    # 1,500 managed rows: the badge says "99+", the pager pages through the first 1,000
    assert page.paginator.capped and page.paginator.count == COUNT_CAP and len(page.object_list) == 25
    assert {tab["key"]: tab["count"] for tab in response.context["tabs"]}["managed"] == "99+"
    counts = [
        q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"] and "delegations_delegation" in q["sql"]
    ]
    exact = [sql for sql in counts if 'AS "__count"' in sql]
    # only the shell's "open requests" badge counts exactly (incoming requests, none here)
    assert all(""""direction" = 'request'""" in q for q in exact), exact
    capped = [sql for sql in counts if sql not in exact]
    assert len(capped) == 2 and f"LIMIT {COUNT_CAP + 1}" in capped[1], capped
    assert capped[0].count(f"LIMIT {TAB_COUNT_CAP + 1}") == 5, capped[0]


def test_issue13_managed_tab_page_comes_from_the_end_date_index(busy_agency):
    """The managed tab (the agency's landing tab, and the dashboard's panels) lists by end date:
    old plan read the agency's active rows by status, joined each to project and orgs, then sorted."""
    from delegations.selectors import delegation_list
    from portal.tenancy import Scope, org_context_for_organization, restrict

    agency, _small = busy_agency
    owner = factories.member(agency, OrgRole.OWNER)
    scope = Scope(user=owner, context=org_context_for_organization(owner, agency))
    page = delegation_list(queryset=restrict(Delegation.objects.all(), scope), organization=agency, tab="managed")[:25]
    rows = list(page)
    assert len(rows) == 25 and all(row.caretaker_id == agency.pk for row in rows)
    assert [row.ends_at for row in rows] == sorted(row.ends_at for row in rows)
    plan = page.explain()
    assert "delegation_caretaker_ends" in plan and "Sort" not in plan, plan
