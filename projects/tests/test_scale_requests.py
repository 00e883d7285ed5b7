"""Issue 13 (scale), what one project request builds and runs: a project page or endpoint decides
access from the roles loaded with the project (one query, no access filter to plan), the lists
build the access filter once and count the projects of the reached orgs orgs-first.

Each test pins a waste the previous code had (see its docstring); the access rules themselves are
pinned by test_access.py and the isolation tests.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from organizations.models import Organization
from organizations.roles import OrgRole
from portal.errors import NotFound
from portal.statements import executed_sql
from projects.models import Project
from projects.roles import ProjectAction, ProjectRole
from projects.selectors import accessible_projects_count, project_for_user, project_user_may
from projects.templatetags.project_tags import project_status_label
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    partner = factories.PartnerFactory(name="Partner")
    customer = factories.OrganizationFactory(name="Kunde")
    factories.link(partner, customer)
    project = factories.project(customer, "Shop")
    other = factories.project(factories.OrganizationFactory(name="Fremd"), "Fremdes Projekt")
    people = {
        "customer owner": factories.member(customer, OrgRole.OWNER),
        "customer member": factories.member(customer, OrgRole.MEMBER),
        "partner owner": factories.member(partner, OrgRole.OWNER),
        "partner member (unassigned)": factories.member(partner, OrgRole.MEMBER),
        "partner member (assigned)": factories.member(partner, OrgRole.MEMBER),
        "viewer": factories.UserFactory(),
        "expired viewer": factories.UserFactory(),
        "stranger": factories.UserFactory(),
    }
    factories.assign(people["partner member (assigned)"], partner, customer)
    factories.grant(project, people["viewer"], ProjectRole.VIEWER)
    factories.grant(project, people["expired viewer"], ProjectRole.VIEWER, expires_at=timezone.now() - timedelta(1))
    return {"partner": partner, "customer": customer, "project": project, "other": other, "people": people}


def _visible(user, project) -> bool:
    try:
        return project_for_user(user=user, number=project.number) == project
    except NotFound:
        return False


def test_issue13_one_project_is_one_query_and_decided_from_its_loaded_roles(world):
    """The old lookup read the memberships and planned the whole access filter (an OR of EXISTS
    over the permission tables) on top of the roles it loaded anyway: two queries, ~18 ms of
    planning at scale. Now the row by its number with its roles; the answer stays the access rule's."""
    project = world["project"]
    for name, user in world["people"].items():
        with CaptureQueriesContext(connection) as queries:
            visible = _visible(user, project)
        assert visible == project_user_may(user=user, project=project, action=ProjectAction.VIEW), name
        assert len(queries) == 1, (name, [q["sql"] for q in queries.captured_queries])
        assert "projects_projectuserobjectpermission" not in queries.captured_queries[0]["sql"], name
        assert not _visible(user, world["other"]), name
    assert _visible(world["people"]["viewer"], project)
    assert not _visible(world["people"]["expired viewer"], project)


def test_issue13_one_project_of_an_archived_org_is_not_found(world):
    Organization.objects.filter(pk=world["customer"].pk).update(status=Organization.Status.ARCHIVED)
    for name, user in world["people"].items():
        assert not _visible(user, world["project"]), name


def test_issue13_archived_project_stays_visible_to_its_people(world):
    Project.objects.filter(pk=world["project"].pk).update(status=Project.Status.ARCHIVED)
    assert _visible(world["people"]["customer owner"], world["project"])
    assert _visible(world["people"]["viewer"], world["project"])
    assert not _visible(world["people"]["stranger"], world["project"])


def test_issue13_api_project_grants_are_not_restricted_a_second_time(api_client, world):
    """The old grant list filtered the grants by every project the caller may manage members of
    (the access filter planned again) after `initial` had required exactly that for the project."""
    api_client.force_login(world["people"]["customer owner"])
    url = reverse("api-project-grant-list", kwargs={"project_number": world["project"].number})
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(url)
    assert response.status_code == 200
    assert {grant["email"] for grant in response.json()["results"]} == {
        world["people"]["viewer"].email,
        world["people"]["expired viewer"].email,
    }
    grant_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(
            ('SELECT "projects_projectrolegrant"', 'SELECT COUNT(*) AS "__count" FROM "projects_projectrolegrant"')
        )
    ]
    assert grant_reads
    for sql in grant_reads:
        assert "projects_project" not in sql.replace("projects_projectrolegrant", ""), sql


def test_issue13_api_project_grants_still_need_manage_members(api_client, world):
    api_client.force_login(world["people"]["viewer"])
    url = reverse("api-project-grant-list", kwargs={"project_number": world["project"].number})
    assert api_client.get(url).status_code == 403
    api_client.force_login(world["people"]["stranger"])
    assert api_client.get(url).status_code == 404


@pytest.mark.parametrize("person", ["partner owner", "partner member (assigned)", "viewer"])
def test_issue13_api_project_list_builds_the_access_filter_once(api_client, world, person):
    """The old viewset restricted its base queryset (the memberships read, the access filter
    built) and then threw it away for `project_page`'s list, which did the same again."""
    api_client.force_login(world["people"][person])
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(reverse("api-project-list"))
    assert response.status_code == 200
    assert [p["number"] for p in response.json()["results"]] == [world["project"].number]
    memberships = [q for q in queries.captured_queries if 'FROM "organizations_membership"' in q["sql"]]
    assert len(memberships) == 1, [q["sql"] for q in memberships]


def test_issue13_api_project_detail_is_one_project_query(api_client, world):
    api_client.force_login(world["people"]["partner owner"])
    url = reverse("api-project-detail", kwargs={"number": world["project"].number})
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(url)
    assert response.status_code == 200
    assert "delete" in response.json()["allowed_actions"]
    sent = [executed_sql(q["sql"]) for q in queries.captured_queries]  # a prepared read: its text
    project_reads = [sql for sql in sent if 'FROM "projects_project"' in sql]
    assert len(project_reads) == 1
    assert "projects_projectuserobjectpermission" not in project_reads[0]


def test_issue13_counting_a_partners_projects_takes_the_orgs_first(world):
    """The old count joined every counted project to its org to test the org's status (1,000
    index lookups for a partner Owner at scale); now the reached active orgs come first and their
    projects by the org index."""
    factories.project(world["customer"], "Zweites Projekt")
    with CaptureQueriesContext(connection) as queries:
        counted = accessible_projects_count(
            Project.objects.all(), world["people"]["partner owner"], ProjectAction.VIEW, cap=10
        )
    assert counted == 2
    joined = 'INNER JOIN "organizations_organization" ON ("projects_project"."organization_id"'
    counts = [q["sql"] for q in queries.captured_queries if 'FROM "projects_project"' in q["sql"]]
    assert counts
    assert not any(joined in sql for sql in counts), counts


def test_issue13_count_leaves_out_archived_orgs_reached_as_partner_staff(world):
    Organization.objects.filter(pk=world["customer"].pk).update(status=Organization.Status.ARCHIVED)
    for person in ("partner owner", "partner member (assigned)", "customer owner"):
        user = world["people"][person]
        assert accessible_projects_count(Project.objects.all(), user, ProjectAction.VIEW, cap=10) == 0, person


def test_issue13_a_staff_members_assigned_customers_are_read_once_per_list_page(client, world):
    """The old page read the assigned customers twice: inside the count and again for the org filter."""
    client.force_login(world["people"]["partner member (assigned)"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("project-list"))
    assert response.status_code == 200
    assert world["project"].number in response.content.decode()
    assert [o.pk for o in response.context["organization_choices"]] == [world["customer"].pk]
    # besides the page's own rows (their access filter names the assignments too)
    listed = 'SELECT "projects_project"."id", "projects_project"."organization_id"'
    reads = [q["sql"] for q in queries.captured_queries if "organizations_staffassignment" in q["sql"]]
    assert len([sql for sql in reads if not sql.startswith(listed)]) == 1, reads


def test_issue13_list_rows_show_status_and_own_role_in_both_languages(client, world):
    Project.objects.filter(pk=world["project"].pk).update(status=Project.Status.ARCHIVED)
    viewer = world["people"]["viewer"]
    client.force_login(viewer)
    html = client.get(reverse("project-list")).content.decode()
    assert "Archived" in html and "Viewer" in html
    viewer.language = "de"
    viewer.save(update_fields=["language"])
    html = client.get(reverse("project-list")).content.decode()
    assert "Archiviert" in html and "Betrachter" in html
    assert project_status_label("unknown") == "unknown"


# the project query of a page: the row by its number with the user's roles on it
PROJECT_ROW = 'SELECT "projects_project"."id", "projects_project"."organization_id"'


def test_issue13_project_pages_take_the_org_role_from_the_org_context(client, world):
    """The project query of every project page held the user's effective org role as two more
    subqueries (the membership; the partner staff's through the customer relation and the
    assignments) although the page builds the org context of the project's org anyway: they were
    most of the query's building and planning. Access is decided as before."""
    expected = {
        "customer owner": 200,
        "partner owner": 200,
        "partner member (assigned)": 200,
        "viewer": 200,
        "partner member (unassigned)": 404,
        "expired viewer": 404,
        "stranger": 404,
    }
    url = reverse("project-detail", kwargs={"number": world["project"].number})
    seen = {}
    for person, status in expected.items():
        client.force_login(world["people"][person])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        seen[person] = response.status_code
        rows = [
            sql
            for sql in map(executed_sql, (q["sql"] for q in queries.captured_queries))
            if sql.startswith(PROJECT_ROW)
        ]
        assert len(rows) == 1, (person, rows)
        assert "organizations_customerrelation" not in rows[0], person
        assert "organizations_staffassignment" not in rows[0], person
        if status == 200:  # the org's navigation for those who act in the org itself
            context = response.wsgi_request.org_context
            assert (context is not None) == (person != "viewer"), person
    assert seen == expected
    # the members page needs "manage members": an Admin's (inherited), not a Developer's
    members = reverse("project-members", kwargs={"number": world["project"].number})
    for person, status in (("customer owner", 200), ("partner owner", 200), ("partner member (assigned)", 403)):
        client.force_login(world["people"][person])
        assert client.get(members).status_code == status, person


def test_issue13_list_of_a_user_in_no_org_marks_caretaker_rows_without_a_subquery(client, world):
    """The caretaker mark joined the grant's org and the user's memberships for every listed row,
    even for a user who is a member of no org (most grantees): from the loaded memberships it is
    a constant then, and literal org keys otherwise."""
    client.force_login(world["people"]["viewer"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("project-list"))
    assert [p.caretaker for p in response.context["object_list"]] == [False]
    rows = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(PROJECT_ROW)]
    assert len(rows) == 1 and "organizations_membership" not in rows[0], rows


def test_issue13_assigned_customers_are_read_from_the_assignments(world):
    """A staff member's assigned customers were read as `org IN (assignments)`: PostgreSQL hashed
    every org of the partner to find the assigned few (7 ms at scale). Now the assignments are
    read and joined to their org by primary key."""
    user = world["people"]["partner member (assigned)"]
    with CaptureQueriesContext(connection) as queries:
        count = accessible_projects_count(Project.objects.all(), user, ProjectAction.VIEW, cap=10)
    assert count == 1
    reads = [q["sql"] for q in queries.captured_queries if "organizations_staffassignment" in q["sql"]]
    assert reads and all(sql.startswith('SELECT "organizations_staffassignment"') for sql in reads), reads


def test_issue13_org_filter_options_built_in_python_keep_the_selection(client, world):
    """The org filter's options are built in Python like the rows (up to 100 orgs): escaped, and the
    chosen org stays selected."""
    Organization.objects.filter(pk=world["customer"].pk).update(name="Kunde <&> GmbH")
    client.force_login(world["people"]["partner owner"])
    public_id = world["customer"].public_id
    html = client.get(reverse("project-list"), {"organization": public_id}).content.decode()
    assert f'<option value="{public_id}" selected>Kunde &lt;&amp;&gt; GmbH</option>' in html
    html = client.get(reverse("project-list")).content.decode()
    assert f'<option value="{public_id}">Kunde &lt;&amp;&gt; GmbH</option>' in html


def test_issue13_org_filter_of_a_short_list_in_one_org_is_read_from_the_page(client, world):
    """A grantee's few projects in one org: the org filter is that org, read from the listed rows
    instead of two more queries (the grants' orgs, then the orgs). Several orgs, a filtered list
    or a partner's reach still ask the database (the same answer as before)."""
    client.force_login(world["people"]["viewer"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("project-list"))
    assert response.context["organization_choices"] == [world["customer"]]
    assert not [q["sql"] for q in queries.captured_queries if "content_object__organization_id" in q["sql"]]
    # a second org: read from the database, by name
    factories.grant(world["other"], world["people"]["viewer"], ProjectRole.VIEWER)
    response = client.get(reverse("project-list"))
    assert response.context["organization_choices"] == sorted(
        [world["customer"], world["other"].organization], key=lambda o: (o.name, o.pk)
    )


def test_issue13_org_filter_takes_the_grants_orgs_read_by_the_count(client, world):
    """The count reads the user's grant rows anyway (with their project's org now); the org filter
    read them a second time for their orgs. A staff member with a grant outside the customers
    assigned: the filter is both orgs, without another read of the grants."""
    staff = world["people"]["partner member (assigned)"]
    factories.grant(world["other"], staff, ProjectRole.VIEWER)
    client.force_login(staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("project-list"))
    expected = sorted([world["customer"], world["other"].organization], key=lambda o: (o.name, o.pk))
    assert response.context["organization_choices"] == expected
    again = [
        q["sql"]
        for q in queries.captured_queries
        if "content_object__organization_id" in q["sql"] and '"content_object_id" AS' not in q["sql"]
    ]
    assert again == []
    # a narrowed list counts the narrowed rows: the filter reads the user's grants itself
    response = client.get(reverse("project-list"), {"q": "Shop"})
    assert response.context["organization_choices"] == expected
