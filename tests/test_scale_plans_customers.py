"""Issue 16: the plans of the partner's customer table and of the duplicate check, pinned on
PostgreSQL like tests/test_scale_plans.py (same fixture: a partner with many customers).

The computed columns (contact, invitation, trial, subscriptions) are correlated subqueries: each
must reach its table by index for the page's rows, never scan it; the duplicate check finds a VAT
ID through its partial index."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Subscription
from offers.models import Product
from organizations import selectors
from organizations.models import Invitation, Membership, Organization, User
from organizations.roles import OrgRole
from portal.tenancy import org_context_for_organization
from tests import factories
from tests.test_scale_plans import _analyze, _plan, scale  # noqa: F401 - the shared fixture

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL plans"),
]


@pytest.fixture
def customer_table_data(scale):  # noqa: F811 - the imported fixture
    partner, customers, _projects = scale
    product = Product.objects.create(
        sku="SCALE-CT", kind=Product.Kind.MODULE, name_en="x", name_de="x", list_price=Decimal("10"), term_months=12
    )
    now = timezone.now()
    Invitation.objects.bulk_create(
        Invitation(
            organization=customer,
            email=f"contact-{customer.pk}@example.com",
            role=OrgRole.OWNER,
            token_hash=f"{customer.pk:064d}",
            expires_at=now + timedelta(days=7),
        )
        for customer in customers
    )
    Subscription.objects.bulk_create(
        Subscription(
            organization=customer,
            payer=partner,
            product=product,
            source=source,
            status=status,
            quantity=1,
            unit_price=Decimal("10.00"),
            term_months=12,
            starts_at=now,
            term_ends_at=now + timedelta(days=30),
            ends_at=now + timedelta(days=30) if source == Subscription.Source.TRIAL else None,
        )
        for customer in customers
        for source, status in (
            (Subscription.Source.TRIAL, Subscription.Status.TRIAL),
            (Subscription.Source.PARTNER_ORDER, Subscription.Status.ACTIVE),
        )
    )
    # every customer has its Owner (the accepted contact) and a few members: realistic table sizes
    roles = (OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER, OrgRole.MEMBER, OrgRole.GUEST, OrgRole.GUEST)
    people = [(customer, role, n) for customer in customers for n, role in enumerate(roles)]
    users = User.objects.bulk_create(User(email=f"p{n}-{customer.pk}@example.com") for customer, _role, n in people)
    Membership.objects.bulk_create(
        Membership(user=user, organization=customer, role=role)
        for user, (customer, role, _n) in zip(users, people, strict=True)
    )
    Organization.objects.filter(pk=customers[42].pk).update(vat_id="DE136695976")
    owner = factories.member(partner, OrgRole.OWNER)
    _analyze(
        "organizations_organization",
        "organizations_invitation",
        "organizations_membership",
        "billing_subscription",
        "organizations_user",
    )
    return partner, customers, owner


def test_issue16_customer_table_page_reads_its_columns_by_index(customer_table_data):
    partner, customers, owner = customer_table_data
    context = org_context_for_organization(owner, partner)
    queryset = selectors.customer_table_columns(selectors.customer_list(context=context, status=""))
    page = queryset.order_by("name", "id")[:25]
    rows = list(page)
    assert len(rows) == 25 and rows[0].subscription_count == 1 and rows[0].contact_email.startswith("contact-")
    plan = _plan(page)
    for table in ("organizations_invitation", "billing_subscription", "organizations_membership"):
        assert f"Seq Scan on {table}" not in plan, plan


def test_issue13_the_compiled_rows_statement_reads_its_columns_by_index(customer_table_data):
    """The statement the page really runs (`selectors.customer_table_rows`, compiled once with
    stand-ins): with the page's 25 ids and now in their place, every subquery reaches its table by
    index – no scan of the invitations, subscriptions or memberships of every customer."""
    partner, customers, owner = customer_table_data
    ids = [customer.pk for customer in customers[100:125]]
    rows = selectors.customer_table_rows(ids)
    assert [row["id"] for row in rows] == ids
    assert rows[0]["subscription_count"] == 1 and rows[0]["contact_email"].startswith("contact-")
    statement = selectors._customer_rows_statement("default", 25)
    sql, params = statement.sql, statement.params(ids=ids, at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for table in ("organizations_invitation", "billing_subscription", "organizations_membership"):
        assert f"Seq Scan on {table}" not in plan, plan


def test_issue16_duplicate_check_finds_a_vat_id_by_its_index(customer_table_data):
    partner, customers, _owner = customer_table_data
    plan = _plan(Organization.objects.filter(vat_id="DE136695976"))
    assert "organization_vat_id" in plan, plan
    duplicates = selectors.customer_duplicates(partner=partner, name="", vat_id="DE136695976", contact_email="")
    assert [match["identifier"] for match in duplicates] == [customers[42].public_id]


def _table_page(context, params: dict):
    """The ids query of the table's first page for `params` (`tables.customer_table`)."""
    from django.http import QueryDict

    from organizations.tables import customer_table

    query = QueryDict(mutable=True)
    query.update(params)
    _filterset, table = customer_table(context, query, columns=[])
    return table.data.data.values_list("pk", flat=True)[:26]


@pytest.mark.parametrize(
    ("params", "index"),
    [({"has_subscription": "no"}, "subscription_paid_in_force"), ({"has_trial": "no"}, "one_trial_per_organization")],
)
def test_issue13_has_none_probes_each_customer_by_its_in_force_index(customer_table_data, params, index):
    """Every customer has a trial and a subscription, so "has none" finds nobody and tests every
    one of the partner's customers. Each test is one probe of a partial index on the organization
    (for paid ones covering, with the times to test included): the cost follows the partner's customers,
    not every subscription of the platform (a hashed NOT IN would read them all, and stops
    being hashed once they outgrow work_mem)."""
    partner, _customers, owner = customer_table_data
    context = org_context_for_organization(owner, partner)
    page = _table_page(context, params)
    assert list(page) == []
    assert "hashed SubPlan" not in _plan(page)
    # 300 customers here, 10,000 in the benchmark, where the planner probes on its own; at this
    # size a scan is as cheap, so the test pins that the probe by the covering index is possible.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_hashjoin = off")
    plan = _plan(page)
    # Which index the probe takes is the planner's choice by its statistics of the moment (freshly
    # inserted rows have no visibility map, so the covering index is no cheaper than the plain
    # foreign key): pinned is that each customer is one index probe on billing_subscription.
    probes = re.findall(
        r"Index (?:Only )?Scan using (\w+) on billing_subscription \w+.*\n\s+Index Cond: \(organization_id = organizations_organization\.id\)",
        plan,
    )
    assert probes and set(probes) <= {index, "billing_subscription_organization_id_5004dd6b"}, plan
    assert "Seq Scan on billing_subscription" not in plan and "hashed SubPlan" not in plan, plan
