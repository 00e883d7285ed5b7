"""Issue 13 (Scale): the plans of the lists that must not grow with the table size.

Each test bulk-creates a few thousand rows (realistic proportions: many orgs, the user reaching
a handful), runs ANALYZE so the planner knows the sizes, and reads EXPLAIN of the very queryset
the page/API runs. No planner switches (`enable_seqscan` stays on): the plan must be the one
production gets. PostgreSQL only (the plans are PostgreSQL's).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import subscription_list
from delegations.models import Delegation
from delegations.selectors import delegation_list, delegation_status_filter
from offers.models import Product
from organizations.models import Organization
from organizations.roles import OrgKind, OrgRole
from organizations.selectors import customer_list, customer_table_search, organization_search, switcher_organizations
from portal.errors import NotFound
from portal.indexes import trigram_installed
from portal.statements import prepared_name
from portal.tenancy import Scope, org_context_for_organization, organizations_for_user_by_ids, restrict
from projects import selectors
from projects.models import Project
from projects.roles import ProjectAction
from projects.selectors import (
    ProjectFilters,
    _accessible_filter,
    organizations_with_projects_for_user,
    project_for_user,
    project_for_user_with_context,
    project_list,
)
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL plans"),
]

ORGS = 300
PROJECTS_PER_ORG = 10


def _analyze(*tables: str) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _plan(queryset) -> str:
    return queryset.explain()


def _scan_filters(plan: str, table: str) -> list[str]:
    """The Filter lines of every sequential scan of `table` in `plan`."""
    lines = plan.splitlines()
    filters = []
    for index, line in enumerate(lines):
        if f"Seq Scan on {table}" in line:
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            filters.append(following if following.startswith("Filter:") else "")
    return filters


def _seq_scans(plan: str, table: str) -> list[str]:
    return re.findall(rf"Seq Scan on {table}\b.*", plan)


def assert_access_not_decided_per_row(plan: str, table: str) -> None:
    """The old plans scanned every row of `table` and ran the access subplans (OR'ed, hashed) on
    each. Now `table` is reached by index from the user's access set, or – where the planner finds
    the whole table cheaper at this test's size – hash-joined to that set: no subplan per row."""
    for scan_filter in _scan_filters(plan, table):
        assert "SubPlan" not in scan_filter and "alternatives" not in scan_filter, plan


@pytest.fixture
def scale():
    """A partner with ORGS linked customers of PROJECTS_PER_ORG projects each."""
    partner = factories.PartnerFactory()
    customers = factories.linked_customers(partner, ORGS, "Scale {:04d} GmbH")
    projects = Project.objects.bulk_create(
        Project(organization=customer, name=f"Project {index:05d}", number=f"p-{index + 100000}")
        for index, customer in enumerate(c for c in customers for _ in range(PROJECTS_PER_ORG))
    )
    _analyze("organizations_organization", "organizations_customerrelation", "projects_project")
    return partner, customers, projects


def test_issue13_project_list_of_a_user_with_one_grant_does_not_scan_all_projects(scale):
    _partner, _customers, projects = scale
    user = factories.UserFactory()
    factories.grant(projects[1234], user, "viewer")
    _analyze("projects_projectrolegrant", "projects_projectuserobjectpermission")

    queryset = project_list(scope=Scope(user=user))
    assert [p.number for p in queryset] == [projects[1234].number]
    assert_access_not_decided_per_row(_plan(queryset), "projects_project")


def test_issue13_project_list_of_a_user_with_one_grant_plans_only_the_grant_path(scale):
    """The one-grant user's list spent ~20 ms planning every access path (memberships, customer
    relations, staff assignments, group grants joined through memberships) though it has none:
    the memberships are read first, and only the paths the user has are in the query."""
    _partner, _customers, projects = scale
    user = factories.UserFactory()
    factories.grant(projects[42], user, "viewer")
    _analyze("projects_projectrolegrant", "projects_projectuserobjectpermission")

    queryset = project_list(scope=Scope(user=user))
    assert [p.number for p in queryset] == [projects[42].number]
    where = str(queryset.query).split(' FROM "projects_project" ', 1)[1]  # the access filter, not the columns
    for path_table in ("organizations_membership", "organizations_customerrelation", "organizations_staffassignment"):
        assert path_table not in where, where
    assert "projects_projectgroupobjectpermission" not in where, where
    assert not _seq_scans(_plan(queryset), "projects_project"), _plan(queryset)


def test_issue13_a_page_of_a_partner_owners_projects_walks_the_name_index(scale):
    """A partner Owner reaches every project of thousands of customers: the page walks the
    (name, id) index and stops after its rows instead of collecting and sorting the whole reach."""
    partner, _customers, projects = scale
    owner = factories.member(partner, OrgRole.OWNER)
    _analyze("organizations_membership")

    queryset = project_list(scope=Scope(user=owner))[:25]
    assert [p.name for p in queryset] == sorted(p.name for p in projects)[:25]
    plan = _plan(queryset)
    assert "project_name_order" in plan, plan
    assert "Sort" not in plan.split("project_name_order")[0], plan


def test_issue13_one_project_by_number_is_not_checked_against_the_whole_reach(scale):
    """Project pages (detail, members, services, …) of a partner Owner: the project by its number,
    then the access rule for that row – no scan of all projects."""
    partner, _customers, projects = scale
    owner = factories.member(partner, OrgRole.OWNER)
    _analyze("organizations_membership")

    assert project_for_user(user=owner, number=projects[2500].number) == projects[2500]
    queryset = _accessible_filter(
        Project.objects.filter(number=projects[2500].number), owner, ProjectAction.VIEW, few_rows=True
    )
    assert not _seq_scans(_plan(queryset), "projects_project"), _plan(queryset)


def test_issue13_the_project_pages_read_their_project_by_a_prepared_plan(scale):
    """Planning the project pages' one-row read (the project by number with the roles on it) took
    ten times its execution: it is a prepared statement, so PostgreSQL plans it five times per
    connection and then keeps the generic plan – the project's unique index, for every user."""
    partner, _customers, projects = scale
    owner = factories.member(partner, OrgRole.OWNER)
    stranger = factories.UserFactory()
    for index in range(8):
        project, context = project_for_user_with_context(user=owner, number=projects[index * 300].number)
        assert project == projects[index * 300] and context.organization == project.organization
    with pytest.raises(NotFound):  # the same plan refuses a user who has no way to the project
        project_for_user_with_context(user=stranger, number=projects[0].number)
    compiled = selectors._compiled[("project of number", "default", "postgresql", False)]
    name = prepared_name(f"{compiled.statement.sql} {connection.ops.limit_offset_sql(0, 1)}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements WHERE name = %s", [name])
        [(statement, generic_plans)] = cursor.fetchall()
    assert 'FROM "projects_project"' in statement and generic_plans >= 3, statement
    params = compiled.statement.params(user=stranger.pk, at=timezone.now(), number=projects[0].number)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using projects_project_number" in plan and not _seq_scans(plan, "projects_project"), plan


def test_issue13_switcher_of_a_partner_member_starts_from_the_assignments(scale):
    """The switcher of a partner Member assigned to a few of thousands of customers: the orgs by
    the ids of the reach, not every org tested with OR'ed subplans (30x a bare page at scale)."""
    partner, customers, _projects = scale
    staff = factories.member(partner, OrgRole.MEMBER)
    for customer in customers[:3]:
        factories.assign(staff, partner, customer)
    _analyze("organizations_membership", "organizations_staffassignment")

    organizations, more = switcher_organizations(user=staff)
    assert {o.pk for o in organizations} == {partner.pk, *(c.pk for c in customers[:3])} and not more
    assert_access_not_decided_per_row(_plan(organizations_for_user_by_ids(staff)), "organizations_organization")


def test_issue13_project_list_of_a_customer_owner_reads_only_its_orgs_projects(scale):
    _partner, customers, _projects = scale
    owner = factories.member(customers[7], OrgRole.OWNER)
    _analyze("organizations_membership")

    queryset = project_list(scope=Scope(user=owner))
    assert len(queryset) == PROJECTS_PER_ORG
    assert_access_not_decided_per_row(_plan(queryset), "projects_project")
    # the org filter dropdown of the project list page: the org by the membership, no project list
    assert organizations_with_projects_for_user(user=owner, limit=100) == [customers[7]]


def _plan_where_an_index_serves(queryset) -> str:
    """EXPLAIN with sequential scans priced out (`SET LOCAL enable_seqscan = off`): whether an
    index *can* answer the query's condition – its expression and operator class match what the
    query compiles to. At the few thousand rows of these tests a scan is rightly cheaper, so the
    plan PostgreSQL would pick cannot show it; the trigram indexes are for 10,000s of rows."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return _plan(queryset)


def test_issue13_project_search_can_use_the_trigram_index(scale):
    if not trigram_installed(connection):
        pytest.skip("this PostgreSQL has no pg_trgm (the embedded test server ships without contrib)")
    _partner, _customers, projects = scale
    partner_owner = factories.member(_partner, OrgRole.OWNER)
    _analyze("organizations_membership")

    queryset = project_list(scope=Scope(user=partner_owner), filters=ProjectFilters(search="ject 01234"))
    assert [p.name for p in queryset] == ["Project 01234"]
    # the search's condition (name or number) by the two trigram indexes; the access paths apart
    plan = _plan_where_an_index_serves(Project.objects.search("ject 01234").order_by())
    assert "project_name_trgm" in plan and "project_number_trgm" in plan, plan


def test_issue13_customer_search_reads_the_stored_upper_case_name(scale):
    """Without pg_trgm the customer search scans the partner's customers; it compares the stored
    `search_name` (kept by the database) instead of computing UPPER(name) on every row; with
    pg_trgm the trigram index on that column answers it."""
    partner, _customers, _projects = scale
    context = org_context_for_organization(factories.member(partner, OrgRole.OWNER), partner)

    queryset = customer_table_search(customer_list(context=context), "Scale 0123 ")
    assert [customer.name for customer in queryset] == ["Scale 0123 GmbH"]
    plan = _plan(queryset)
    assert "search_name" in plan, plan
    assert "upper((name)" not in plan.lower().replace('"', ""), plan
    if trigram_installed(connection):
        plan = _plan_where_an_index_serves(organization_search(Organization.objects.order_by(), "ale 0123"))
        assert "organization_search_name_trgm" in plan, plan


def test_issue13_subscriptions_across_orgs_start_from_the_users_orgs(scale):
    partner, customers, _projects = scale
    products = [
        Product.objects.create(
            sku=f"SCALE-{index}",
            kind=Product.Kind.MODULE,
            name_en="x",
            name_de="x",
            list_price=Decimal("10.00"),
            term_months=12,
        )
        for index in range(5)
    ]
    now = timezone.now()
    Subscription.objects.bulk_create(
        Subscription(
            organization=customer,
            payer=partner,
            product=products[index],
            source=Subscription.Source.PARTNER_ORDER,
            status=Subscription.Status.ACTIVE,
            quantity=1,
            unit_price=Decimal("10.00"),
            term_months=12,
            starts_at=now - timedelta(days=index % 300),
            term_ends_at=now + timedelta(days=365 - index % 300),
        )
        for customer in customers
        for index in range(len(products))
    )
    direct = factories.OrganizationFactory()  # ORG-6: a linked customer's own accounts see no billing
    Subscription.objects.bulk_create(
        Subscription(
            organization=direct,
            payer=direct,
            product=product,
            source=Subscription.Source.PARTNER_ORDER,
            status=Subscription.Status.ACTIVE,
            quantity=1,
            unit_price=Decimal("10.00"),
            term_months=12,
            starts_at=now,
            term_ends_at=now + timedelta(days=365),
        )
        for product in products
    )
    owner = factories.member(direct, OrgRole.OWNER)
    _analyze("billing_subscription", "organizations_membership")

    queryset = subscription_list(queryset=restrict(Subscription.objects.all(), Scope(user=owner)))
    assert {s.organization_id for s in queryset} == {direct.pk}
    plan = _plan(queryset)
    assert "Seq Scan on billing_subscription" not in plan, plan


@pytest.fixture
def agency_delegations(scale):
    """An agency caring for a few projects among thousands of delegations of other agencies."""
    _partner, customers, projects = scale
    agencies = Organization.objects.bulk_create(
        Organization(name=f"Agentur {index:02d}", kind=OrgKind.CUSTOMER, country="DE") for index in range(30)
    )
    now = timezone.now()
    statuses = [
        Delegation.Status.ACTIVE,
        Delegation.Status.PENDING,
        Delegation.Status.REVOKED,
        Delegation.Status.DECLINED,
    ]
    Delegation.objects.bulk_create(
        Delegation(
            project=project,
            organization_id=project.organization_id,
            requested_number=project.number,
            caretaker=agencies[index % len(agencies)],
            direction=Delegation.Direction.REQUEST,
            status=statuses[index % len(statuses)],
            respond_by=now + timedelta(days=1 + index % 30),
            ends_at=now + timedelta(days=30 + index % 300),
            created_at=now - timedelta(minutes=index),
        )
        for index, project in enumerate(projects)
    )
    agency = agencies[0]
    owner = factories.member(agency, OrgRole.OWNER)
    _analyze("delegations_delegation", "organizations_membership")
    return agency, owner


def test_issue13_agency_delegation_tabs_filter_on_stored_columns(agency_delegations):
    agency, owner = agency_delegations
    context = org_context_for_organization(owner, agency)
    restricted = restrict(Delegation.objects.all(), Scope(user=owner, context=context))

    queryset = delegation_list(queryset=restricted, organization=agency, tab="managed")
    rows = list(queryset)
    assert rows and all(
        row.current_status == Delegation.Status.ACTIVE and row.caretaker_id == agency.pk for row in rows
    )
    plan = _plan(queryset)
    assert "Seq Scan on delegations_delegation" not in plan, plan
    assert "CASE" not in plan, plan

    api = delegation_status_filter(restricted.with_current_status(), Delegation.Status.ACTIVE)
    plan = _plan(api)
    assert "Seq Scan on delegations_delegation" not in plan, plan
    assert "CASE" not in plan, plan
