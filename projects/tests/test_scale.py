"""Issue 13 (scale), the project lists: their cost depends on the page and the cap, not on how
many projects the user reaches.

- The total is exact up to a cap (1,000; smaller here) and then "more than …" (page) or
  `count: null, count_capped: true` (API); every API page stays reachable through `next`.
- The org filter of `/projects/` is built from the user's memberships, the customers reached
  and a bounded number of grant rows – never from every visible project.
- Plans (PostgreSQL, EXPLAIN ANALYZE of the very queries a request runs): counting, the org
  filter and a page of a large reach never handle more rows than the cap allows.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.models import Organization
from organizations.roles import OrgKind, OrgRole
from portal.api.pagination import CappedCountPagination
from portal.pagination import CappedPaginator
from portal.tenancy import Scope
from projects import selectors
from projects.models import Project, ProjectRoleGrant
from projects.roles import ProjectAction, ProjectRole
from projects.selectors import (
    ProjectFilters,
    accessible_projects_count,
    organizations_with_projects_for_user,
    project_list,
    project_page,
)
from projects.services import project_grant_role
from projects.tests.test_query_counts import bulk_grants
from tests import factories

pytestmark = pytest.mark.django_db

CAP = 5


@pytest.fixture
def small_cap(monkeypatch):
    """The lists' cap at CAP (it is 1,000): the page, the API and the paginators read it."""
    monkeypatch.setattr("projects.views.COUNT_CAP", CAP)
    monkeypatch.setattr("projects.api.views.COUNT_CAP", CAP)
    monkeypatch.setattr(CappedCountPagination, "cap", CAP)


@pytest.fixture
def grantee():
    """A user with a Viewer grant on 8 projects of 4 customer orgs (no membership)."""
    user = factories.UserFactory()
    customers = [factories.OrganizationFactory(name=f"Kunde {i}") for i in range(4)]
    projects = [factories.project(customers[i % 4], f"Shop {i:02d}") for i in range(8)]
    for project in projects:
        factories.grant(project, user, ProjectRole.VIEWER)
    return user, projects


# --- the total: exact up to the cap, then "more than" -----------------------------------------


def test_issue13_project_list_page_says_more_than_the_cap_instead_of_counting_everything(client, grantee, small_cap):
    user, projects = grantee
    client.force_login(user)
    response = client.get(reverse("project-list"))
    html = response.content.decode()
    paginator = response.context["paginator"]
    assert paginator.capped and paginator.count == CAP
    assert f"More than {CAP} projects" in html
    # only the first CAP rows are paged: deep offsets would read the whole reach again
    assert len(response.context["object_list"]) == CAP
    assert client.get(reverse("project-list"), {"page": 2}).status_code == 404


def test_issue13_project_list_page_count_is_exact_up_to_the_cap(client, grantee, small_cap):
    user, projects = grantee
    client.force_login(user)
    response = client.get(reverse("project-list"), {"q": "Shop 03"})
    assert not response.context["paginator"].capped and response.context["paginator"].count == 1
    assert "1 project" in response.content.decode()
    response = client.get(reverse("project-list"), {"organization": projects[0].organization.public_id})
    assert not response.context["paginator"].capped and response.context["paginator"].count == 2
    assert "2 projects" in response.content.decode()


def test_issue13_project_list_page_in_german_says_more_than(client, grantee, small_cap):
    user, _projects = grantee
    user.language = "de"
    user.save(update_fields=["language"])
    client.force_login(user)
    html = client.get(reverse("project-list"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert f"Mehr als {CAP} Projekte" in html


def test_issue13_project_api_count_is_null_above_the_cap_and_every_page_stays_reachable(api_client, grantee, small_cap):
    user, projects = grantee
    api_client.force_login(user)
    body = api_client.get(reverse("api-project-list"), {"page_size": 3}).json()
    assert body["count"] is None and body["count_capped"] is True
    numbers = [row["number"] for row in body["results"]]
    while body["next"]:
        body = api_client.get(body["next"]).json()
        numbers += [row["number"] for row in body["results"]]
    assert sorted(numbers) == sorted(p.number for p in projects)
    # the last page knows its total: nothing follows it
    assert body["count"] == len(projects) and body["count_capped"] is False


def test_issue13_project_api_count_is_exact_up_to_the_cap(api_client, grantee, small_cap):
    user, projects = grantee
    api_client.force_login(user)
    organization = projects[0].organization.public_id
    body = api_client.get(reverse("api-project-list"), {"organization": organization, "page_size": 1}).json()
    assert body["count"] == 2 and body["count_capped"] is False and body["next"]


@pytest.mark.parametrize("page", ["0", "-1", "x", "99"])
def test_capped_api_pagination_answers_bad_pages_with_404_in_the_error_shape(api_client, grantee, page):
    user, _projects = grantee
    api_client.force_login(user)
    response = api_client.get(reverse("api-project-list"), {"page": page})
    assert response.status_code == 404
    assert set(response.json()["error"]) >= {"code", "message"}


def test_issue13_count_merges_projects_reached_twice(grantee):
    """A project reached by membership and by a grant counts once (the paths are merged by id)."""
    user, projects = grantee
    organization = projects[0].organization
    Organization.objects.filter(pk=organization.pk).update(kind=OrgKind.CUSTOMER)
    factories.member(organization, OrgRole.OWNER, email="twice@example.com")
    owner = organization.memberships.get().user
    factories.grant(projects[0], owner, ProjectRole.VIEWER)
    count = accessible_projects_count(Project.objects.all(), owner, ProjectAction.VIEW, cap=100)
    assert count == len(project_list(scope=Scope(user=owner))) == 2


def test_issue13_count_and_list_agree_for_every_kind_of_reach(grantee):
    """Partner Owner (wide), partner Member (assigned), customer Owner, grantee, caretaker."""
    user, projects = grantee
    partner = factories.PartnerFactory()
    for customer in {p.organization for p in projects}:
        factories.link(partner, customer)
    owner = factories.member(partner, OrgRole.OWNER)
    staff = factories.member(partner, OrgRole.MEMBER)
    factories.assign(staff, partner, projects[1].organization)
    agency = factories.OrganizationFactory(name="Agentur")
    caretaker = factories.member(agency, OrgRole.ADMIN)
    for project in projects[:3]:
        project_grant_role(
            project=project,
            organization=agency,
            role=ProjectRole.EXTERNAL,
            source=ProjectRoleGrant.Source.DELEGATION,
        )
    for person in (user, owner, staff, caretaker):
        listed = project_list(scope=Scope(user=person))
        for cap in (1, 2, 100):
            page = project_page(scope=Scope(user=person), cap=cap)
            assert page.count == min(len(listed), cap + 1), (person, cap)
            assert list(page.queryset) == list(listed), (person, cap)


def test_issue13_count_stops_reading_once_the_orgs_projects_are_over_the_cap(grantee):
    """A partner Owner's customers' projects alone are more than the cap: the count is known
    without reading the Owner's grants too (two queries and their building, for nothing, on
    every page of the list)."""
    _user, projects = grantee
    partner = factories.PartnerFactory()
    for customer in {p.organization for p in projects}:
        factories.link(partner, customer)
    owner = factories.member(partner, OrgRole.OWNER)
    factories.grant(projects[0], owner, ProjectRole.VIEWER)
    with CaptureQueriesContext(connection) as queries:
        count = accessible_projects_count(Project.objects.all(), owner, ProjectAction.VIEW, cap=3)
    assert count == 4
    assert not [q["sql"] for q in queries.captured_queries if "objectpermission" in q["sql"]]
    # within the cap every path is read and merged
    assert accessible_projects_count(Project.objects.all(), owner, ProjectAction.VIEW, cap=100) == 8


# --- the org filter -----------------------------------------------------------------------------


def test_issue13_org_filter_reads_a_bounded_number_of_grants(grantee, monkeypatch):
    user, projects = grantee
    organizations = sorted({p.organization for p in projects}, key=lambda o: (o.name, o.pk))
    assert organizations_with_projects_for_user(user=user, limit=10) == organizations
    assert organizations_with_projects_for_user(user=user, limit=3) is None  # 4 orgs: the identifier field
    monkeypatch.setattr("projects.selectors.FILTER_GRANT_ROWS", 7)  # 8 grants: not all read
    assert organizations_with_projects_for_user(user=user, limit=10) is None


def test_issue13_org_filter_is_not_read_again_when_the_count_found_too_many_grants(
    client, grantee, small_cap, monkeypatch
):
    user, _projects = grantee
    monkeypatch.setattr("projects.selectors.FILTER_GRANT_ROWS", CAP)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("project-list"))
    assert response.context["organization_choices"] is None
    assert not [q["sql"] for q in queries.captured_queries if "content_object__organization_id" in q["sql"]]
    # below the cap the filter is read as usual
    response = client.get(reverse("project-list"), {"q": "Shop 0"})
    assert response.context["paginator"].capped  # 8 of them: still over
    monkeypatch.setattr("projects.selectors.FILTER_GRANT_ROWS", 100)
    response = client.get(reverse("project-list"))
    assert len(response.context["organization_choices"]) == 4


def test_issue13_paginator_takes_a_count_made_elsewhere():
    paginator = CappedPaginator(list(range(30)), 10, cap=20, counted=21)
    assert paginator.capped and paginator.count == 20 and paginator.num_pages == 2


# --- plans (PostgreSQL) ---------------------------------------------------------------------------

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL plans")
ORGS = 200
PROJECTS_PER_ORG = 10
GRANTS = 1200
PLAN_CAP = 100


def _analyze() -> None:
    with connection.cursor() as cursor:
        for table in (
            "organizations_organization",
            "organizations_customerrelation",
            "organizations_membership",
            "projects_project",
            "projects_projectrolegrant",
            "projects_projectuserobjectpermission",
            "projects_projectgroupobjectpermission",
        ):
            cursor.execute(f"ANALYZE {table}")


def _rows_per_node(function) -> list[tuple[int, str, str]]:
    """Runs `function`, then EXPLAIN ANALYZE of each SELECT it ran: (rows × loops, node, SQL) for
    every plan node – how many rows each step handled."""
    with CaptureQueriesContext(connection) as queries:
        function()
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        stack = [plan[0]["Plan"]]
        while stack:
            node = stack.pop()
            rows = int(node["Actual Rows"] * node["Actual Loops"])
            found.append((rows, f"{node['Node Type']} {node.get('Relation Name', '')}", sql))
            stack.extend(node.get("Plans", []))
    return found


@pytest.fixture
def reach():
    """ORGS customers of a partner with PROJECTS_PER_ORG projects each; a user with a Viewer grant
    on GRANTS of them, and an agency caring for 300 of them (External, through its members group)."""
    partner = factories.PartnerFactory()
    customers = Organization.objects.bulk_create(
        Organization(name=f"Scale {index:04d} GmbH", kind=OrgKind.CUSTOMER, country="DE") for index in range(ORGS)
    )
    for customer in customers:
        factories.link(partner, customer)
    Project.objects.bulk_create(
        Project(organization=customer, name=f"Project {index:05d}", number=f"p-{index + 100000}")
        for index, customer in enumerate(c for c in customers for _ in range(PROJECTS_PER_ORG))
    )
    projects = list(Project.objects.order_by("id"))
    heavy = factories.UserFactory()
    bulk_grants([(project, heavy, ProjectRole.VIEWER) for project in projects[::2][:GRANTS]])
    # others' grants, so the tables are large enough that the planner reads them by index as at scale
    others = [factories.UserFactory() for _ in range(10)]
    bulk_grants([(project, other, ProjectRole.VIEWER) for other in others for project in projects])
    agency = factories.OrganizationFactory(name="Agentur")
    caretaker = factories.member(agency, OrgRole.OWNER)
    for project in projects[1::3][:300]:
        project_grant_role(
            project=project, organization=agency, role=ProjectRole.EXTERNAL, source=ProjectRoleGrant.Source.DELEGATION
        )
    _analyze()
    return {"heavy": heavy, "caretaker": caretaker, "projects": projects}


# the tables that grow with the reach (the orgs here are a few hundred rows, which the planner may
# scan whole inside a join; at scale it takes their primary key)
GROWING = (
    "projects_project",
    "projects_projectrolegrant",
    "projects_projectuserobjectpermission",
    "projects_projectgroupobjectpermission",
)


def _assert_every_read_of_the_grants_stops_at(nodes, limit: int) -> None:
    """Each query on the permission tables stops after `limit` rows (the old ones counted, or
    collected the orgs of, every granted project). At this test's size the planner may still
    hash the few hundred rows of the path; at scale the same queries stream from the index."""
    reads = {sql for _rows, _node, sql in nodes if "objectpermission" in sql}
    assert reads
    for sql in reads:
        # a single path is counted in SQL: COUNT(*) over the same limited rows
        assert sql.rstrip().endswith((f"LIMIT {limit}", f"LIMIT {limit}) subquery")), sql


def _assert_bounded(nodes, bound: int) -> None:
    worst = max(node for node in nodes if node[1].split(" ")[-1] in GROWING)
    assert worst[0] <= bound, (worst[0], worst[1], worst[2][:400])


@postgres_only
@pytest.mark.parametrize("person", ["heavy", "caretaker"])
def test_issue13_counting_a_large_reach_reads_about_the_cap(reach, person):
    """The old COUNT read every one of the 1,200 granted projects (300 ms at 100,000)."""
    user = reach[person]
    counted = []
    nodes = _rows_per_node(
        lambda: counted.append(accessible_projects_count(Project.objects.all(), user, ProjectAction.VIEW, cap=PLAN_CAP))
    )
    assert counted == [PLAN_CAP + 1]
    _assert_every_read_of_the_grants_stops_at(nodes, PLAN_CAP + 1)


@postgres_only
@pytest.mark.parametrize("person", ["heavy", "caretaker"])
def test_issue13_a_page_of_a_large_reach_walks_the_name_index(reach, person):
    """Above the cap the page tests the rows it meets in name order (EXISTS per row by the
    permission indexes) instead of collecting, hashing or sorting the whole reach."""
    user = reach[person]
    page = project_page(scope=Scope(user=user), cap=PLAN_CAP)
    assert page.count == PLAN_CAP + 1
    rows = []
    nodes = _rows_per_node(lambda: rows.extend(page.queryset[:25]))
    assert len(rows) == 25
    _assert_bounded(nodes, 200)
    # the statement the page ran (the compiled list, `project_page`)
    (executed,) = {sql for _rows, _node, sql in nodes}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + executed)
        assert "project_name_order" in "\n".join(row[0] for row in cursor.fetchall())


@postgres_only
def test_issue13_org_filter_of_a_user_with_many_grants_reads_a_bounded_number_of_rows(reach, monkeypatch):
    """The old filter read the orgs of every granted project (a DISTINCT over 100,000, 400 ms)."""
    monkeypatch.setattr("projects.selectors.FILTER_GRANT_ROWS", PLAN_CAP)
    choices = []
    nodes = _rows_per_node(lambda: choices.append(organizations_with_projects_for_user(user=reach["heavy"], limit=100)))
    assert choices == [None]
    _assert_every_read_of_the_grants_stops_at(nodes, PLAN_CAP + 1)


# --- the statements compiled once per shape of memberships ------------------------------------


def _same_shape_people(grantee):
    """Pairs of users whose memberships have one shape but reach different projects: two partner
    Members with one assigned customer each (of different partners), two grantees of more than CAP
    projects, two caretakers."""
    user, projects = grantee
    other_grantee = factories.UserFactory()  # also more than CAP: the same form of the list
    for project in projects[2:]:
        factories.grant(project, other_grantee, ProjectRole.VIEWER)
    staff = []
    for project in projects[:2]:
        partner = factories.PartnerFactory()
        factories.link(partner, project.organization)
        member = factories.member(partner, OrgRole.MEMBER)
        factories.assign(member, partner, project.organization)
        staff.append(member)
    caretakers = []
    for project in projects[2:4]:
        agency = factories.OrganizationFactory()
        caretakers.append(factories.member(agency, OrgRole.ADMIN))
        project_grant_role(
            project=project, organization=agency, role=ProjectRole.EXTERNAL, source=ProjectRoleGrant.Source.DELEGATION
        )
    return [(user, other_grantee), tuple(staff), tuple(caretakers)]


def test_issue13_project_list_builds_no_access_filter_once_its_shape_is_compiled(grantee, monkeypatch):
    """Building the access filter with the ORM on every request was most of the list's cost: the
    second user of a shape of memberships is read by the statements compiled for the first, and
    gets their own projects."""
    pairs = _same_shape_people(grantee)
    for first, _second in pairs:
        list(project_page(scope=Scope(user=first), cap=CAP).queryset[0:CAP])
    built = []

    def spy(name, function):
        def wrapper(*args, **kwargs):
            built.append(name)
            return function(*args, **kwargs)

        monkeypatch.setattr(f"projects.selectors.{name}", wrapper)

    for name in ("_access_paths", "accessible_projects_q", "project_annotate_for_user"):
        spy(name, getattr(selectors, name))
    for first, second in pairs:
        pages = [project_page(scope=Scope(user=person), cap=CAP) for person in (first, second)]
        listed = [[p.number for p in page.queryset[0:CAP]] for page in pages]
        assert built == []
        expected = [[p.number for p in project_list(scope=Scope(user=person))] for person in (first, second)]
        assert listed == [numbers[:CAP] for numbers in expected] and listed[0] != listed[1]
        assert [page.count for page in pages] == [min(len(numbers), CAP + 1) for numbers in expected]
        built.clear()  # the expected lists were built by the ORM


@pytest.mark.parametrize("filters", ["status", "organization", "both"])
def test_issue13_compiled_project_list_keeps_the_filters(grantee, filters):
    user, projects = grantee
    Project.objects.filter(pk=projects[0].pk).update(status=Project.Status.ARCHIVED)
    organization = projects[0].organization.public_id
    given = {
        "status": ProjectFilters(status=Project.Status.ACTIVE),
        "organization": ProjectFilters(organization=organization),
        "both": ProjectFilters(organization=organization, status=Project.Status.ARCHIVED),
    }[filters]
    for _round in range(2):  # compiled, then read by the compiled statements
        page = project_page(scope=Scope(user=user), filters=given, cap=CAP)
        expected = list(project_list(scope=Scope(user=user), filters=given))
        assert list(page.queryset) == expected and page.count == min(len(expected), CAP + 1)


def test_issue13_project_rows_reverse_the_detail_url_once_per_list(grantee, monkeypatch):
    """A `reverse` per row was the largest part of building the rows; the rows stay escaped."""
    from portal.templatetags import ui
    from projects.templatetags import project_tags

    user, projects = grantee
    Project.objects.filter(pk=projects[0].pk).update(name='<b>"Shop" & Co</b>')
    rows = list(project_page(scope=Scope(user=user), cap=CAP).queryset[0:CAP])
    calls = []
    reverse_once = ui.reverse  # the rows' URL parts come from `ui.url_around`

    def counted(*args, **kwargs):
        calls.append(args)
        return reverse_once(*args, **kwargs)

    monkeypatch.setattr(ui, "reverse", counted)
    html = str(project_tags.project_list_rows(rows, True))
    assert len(calls) == 1
    for project in rows:
        assert f'<a href="{reverse("project-detail", kwargs={"number": project.number})}">{project.number}</a>' in html
    assert "&lt;b&gt;&quot;Shop&quot; &amp; Co&lt;/b&gt;" in html and "<b>" not in html
