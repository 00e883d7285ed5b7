"""portal.statements: a statement compiled once with stand-ins returns, for each call's values,
what the ORM returns when it builds the query with those values (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organizations.models import CustomerRelation, Organization
from portal.statements import (
    STAND_IN_ID,
    STAND_IN_MOMENT,
    CompiledQuery,
    CompiledStatement,
    executed_sql,
    stand_in_ids,
)
from projects.models import Project
from tests import factories

pytestmark = pytest.mark.django_db


def _orgs_statement():
    def build(partner, since, ids):
        queryset = Organization.objects.filter(
            Q(pk__in=ids) | Q(customer_relations__partner_id=partner), created_at__gte=since
        ).order_by("name", "id")
        return queryset.values_list("name").query.sql_with_params()

    return CompiledStatement.compile(
        build, using="default", partner=STAND_IN_ID, since=STAND_IN_MOMENT, ids=stand_in_ids(2)
    )


def test_values_of_each_call_replace_the_stand_ins():
    old = factories.OrganizationFactory(name="Alt")
    Organization.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    new = factories.OrganizationFactory(name="Neu")
    other = factories.OrganizationFactory(name="Andere")
    statement = _orgs_statement()
    week_ago = timezone.now() - timedelta(days=7)
    for ids, since in (([old.pk, new.pk], week_ago), ([old.pk, other.pk], week_ago - timedelta(days=60))):
        expected = list(
            Organization.objects.filter(Q(pk__in=ids) | Q(customer_relations__partner_id=-1), created_at__gte=since)
            .order_by("name", "id")
            .values_list("name")
        )
        assert statement.fetchall(partner=-1, since=since, ids=ids) == expected
    assert statement.fetchall(partner=-1, since=week_ago, ids=[old.pk, new.pk]) == [("Neu",)]


def test_a_call_runs_one_query_and_builds_nothing():
    statement = _orgs_statement()
    with CaptureQueriesContext(connection) as queries:
        statement.fetchall(partner=1, since=timezone.now(), ids=[1, 2])
    assert len(queries.captured_queries) == 1


def test_a_stand_in_that_is_not_a_parameter_fails_loudly():
    def build(partner, at):  # `at` is not used: the statement could not follow the caller's time
        return Organization.objects.filter(pk=partner).values_list("name").query.sql_with_params()

    with pytest.raises(RuntimeError, match=r"\['at'\]"):
        CompiledStatement.compile(build, using="default", partner=STAND_IN_ID, at=STAND_IN_MOMENT)


def _projects_query():
    """Projects of some orgs or named like a stand-in, with their org (select_related) and an
    annotation of the org's customer relations to one partner."""

    def build(orgs, partner, name):
        return (
            Project.objects.select_related("organization")
            .filter(Q(organization_id__in=orgs) | Q(name=name))
            .annotate(
                linked=Exists(CustomerRelation.objects.filter(customer=OuterRef("organization"), partner=partner))
            )
            .order_by("name", "id")
        )

    compiled = CompiledQuery.compile(
        build, using="default", orgs=stand_in_ids(2), partner=STAND_IN_ID, name="stand-in-name-7000001"
    )
    return build, compiled


def test_a_compiled_query_returns_what_the_orm_returns_a_slice_at_a_time():
    partner = factories.PartnerFactory()
    first, second, third = (factories.OrganizationFactory(name=name) for name in ("A", "B", "C"))
    factories.link(partner, second)
    for organization in (first, second, third):
        for index in range(3):
            factories.project(organization, f"{organization.name} {index}")
    build, compiled = _projects_query()
    values = {"orgs": [first.pk, second.pk], "partner": partner.pk, "name": "C 1"}
    expected = list(build(**values))
    for low, high in ((0, None), (0, 4), (2, 5), (6, None), (9, 12)):
        rows = compiled.fetch(low, high, **values)
        assert rows == expected[low:high]
        assert [(p.organization.name, p.linked, p.created_at) for p in rows] == [
            (p.organization.name, p.linked, p.created_at) for p in expected[low:high]
        ]
    with CaptureQueriesContext(connection) as queries:
        compiled.fetch(0, 2, **values)
    assert len(queries.captured_queries) == 1  # the org came with the row (select_related)


def test_partial_stand_ins_may_be_absent_but_never_written_into_the_sql():
    def build(partner, other):  # `other` is not needed by this statement of the family
        return Organization.objects.filter(pk=partner).values_list("name").query.sql_with_params()

    statement = CompiledStatement.compile(build, using="default", partial=True, partner=STAND_IN_ID, other=-7_000_099)
    organization = factories.OrganizationFactory(name="Da")
    assert statement.fetchall(partner=organization.pk, other=1) == [("Da",)]

    def inlined(partner):  # a value written into the SQL cannot be replaced by a call's
        return Organization.objects.filter(pk=partner).extra(where=[f"id <> {partner}"]).query.sql_with_params()

    with pytest.raises(RuntimeError, match=r"\['partner'\]"):
        CompiledStatement.compile(inlined, using="default", partial=True, partner=STAND_IN_ID)


def _prepared_orgs_statement(tag: str):
    """As `_orgs_statement`, prepared, with a literal % in its SQL (escaped %% for the driver);
    `tag` makes its text, and so its prepared statement, the test's own."""

    def build(partner, since, ids):
        queryset = Organization.objects.filter(
            Q(pk__in=ids) | Q(customer_relations__partner_id=partner), created_at__gte=since
        ).extra(where=["name NOT LIKE '%%!'", f"'{tag}' = '{tag}'"])
        return queryset.order_by("name", "id").values_list("name").query.sql_with_params()

    return CompiledStatement.compile(
        build, using="default", prepared=True, partner=STAND_IN_ID, since=STAND_IN_MOMENT, ids=stand_in_ids(2)
    )


postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="prepared on PostgreSQL only")


def test_a_prepared_statement_returns_what_the_orm_returns_for_each_call():
    names = ["Alt", "Neu", "Andere", "Laut!"]
    old, new, other, loud = (factories.OrganizationFactory(name=name) for name in names)
    Organization.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    statement = _prepared_orgs_statement("values")
    week_ago = timezone.now() - timedelta(days=7)
    calls = [([old.pk, new.pk], week_ago), ([old.pk, other.pk], week_ago - timedelta(days=60))]
    calls += [([new.pk, loud.pk], week_ago)] * 7  # beyond PostgreSQL's five custom plans
    for ids, since in calls:
        expected = list(
            Organization.objects.filter(Q(pk__in=ids) | Q(customer_relations__partner_id=-1), created_at__gte=since)
            .exclude(name__endswith="!")
            .order_by("name", "id")
            .values_list("name")
        )
        assert statement.fetchall(partner=-1, since=since, ids=ids) == expected
    assert statement.fetchall(partner=-1, since=week_ago, ids=[new.pk, loud.pk]) == [("Neu",)]


@postgresql_only
def test_a_prepared_statement_is_prepared_once_per_connection_and_its_plan_is_kept():
    organization = factories.OrganizationFactory(name="Da")
    statement = _prepared_orgs_statement("kept")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(8):
            assert statement.fetchall(partner=-1, since=STAND_IN_MOMENT, ids=[organization.pk, -1]) == [("Da",)]
    # prepared on the driver's cursor (connection set-up, not a query of the request)
    sent = [query["sql"].split(" ", 1)[0] for query in queries.captured_queries]
    assert sent == ["EXECUTE"] * 8
    assert executed_sql(queries.captured_queries[0]["sql"]).startswith("SELECT")
    assert "'kept' = 'kept'" in executed_sql(queries.captured_queries[0]["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%%kept%%'")
        (generic, custom), *others = cursor.fetchall()
    assert others == []
    # PostgreSQL plans the first five calls for their values, then keeps the generic plan
    assert (custom, generic) == (5, 3)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statement_again():
    organization = factories.OrganizationFactory(name="Da")
    statement = _prepared_orgs_statement("again")
    assert statement.fetchall(partner=-1, since=STAND_IN_MOMENT, ids=[organization.pk, -1]) == [("Da",)]
    connection.close()
    with connection.cursor() as cursor:  # a new session: nothing prepared
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)
    with CaptureQueriesContext(connection) as queries:
        assert statement.fetchall(partner=-1, since=STAND_IN_MOMENT, ids=[organization.pk, -1]) == [("Da",)]
    assert [query["sql"].split(" ", 1)[0] for query in queries.captured_queries] == ["EXECUTE"]
    assert "'again' = 'again'" in executed_sql(queries.captured_queries[0]["sql"])
