"""portal.statements: a statement compiled once with stand-ins returns, for each call's values,
what the ORM returns when it builds the query with those values (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organizations.models import Organization
from portal.statements import STAND_IN_ID, STAND_IN_MOMENT, CompiledStatement, stand_in_ids
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
