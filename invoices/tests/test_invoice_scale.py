"""BIL-5 at the SPEC's scale: the monthly run's queries do not grow with the number of customer orgs.

Orgs, relations and subscriptions are bulk-inserted; the run goes through the real selector
(`billing.selectors.billable_lines`) and the real issuing (`invoices.services.issuing.invoices_issue`).
"""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Subscription
from invoices.models import Invoice, InvoiceLine
from invoices.services.issuing import invoice_monthly_run
from organizations.models import CustomerRelation, Organization
from organizations.roles import OrgKind

from .factories import partner, product

pytestmark = pytest.mark.django_db

RUN_DAY = date(2026, 11, 1)


def _populate(linked: int, direct: int, *, tag: str) -> Organization:
    """One partner with `linked` customer orgs (two paid subscriptions each, the partner pays) and
    `direct` customer orgs paying for themselves; everything bulk-inserted."""
    reseller = partner(name=f"Scale Partner {tag}")
    module, storage = product("12.00", f"Mod{tag}"), product("0.35", f"Sto{tag}")
    organizations = Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.CUSTOMER,
                name=f"Kunde {tag} {n:05d} GmbH",
                country="DE",
                vat_id="",
                billing_email=f"billing{n}@{tag}.example",
            )
            for n in range(linked + direct)
        ]
    )
    linked_orgs, direct_orgs = organizations[:linked], organizations[linked:]
    now = timezone.now()
    CustomerRelation.objects.bulk_create(
        [
            CustomerRelation(partner=reseller, customer=org, status=CustomerRelation.Status.ACTIVE, activated_at=now)
            for org in linked_orgs
        ]
    )
    starts = timezone.make_aware(datetime(2026, 9, 1))
    ends = timezone.make_aware(datetime(2027, 9, 1))

    def subscription(org, payer, item, quantity, price, source):
        return Subscription(
            organization=org,
            payer=payer,
            product=item,
            quantity=quantity,
            unit_price=Decimal(price),
            source=source,
            status=Subscription.Status.ACTIVE,
            term_months=12,
            starts_at=starts,
            term_ends_at=ends,
        )

    rows = []
    for org in linked_orgs:
        rows.append(subscription(org, reseller, module, 3, "9.60", Subscription.Source.PARTNER_ORDER))
        rows.append(subscription(org, reseller, storage, 7, "0.28", Subscription.Source.PARTNER_ORDER))
    for org in direct_orgs:
        rows.append(subscription(org, org, module, 2, "12.00", Subscription.Source.DIRECT_ORDER))
    Subscription.objects.bulk_create(rows, batch_size=5000)
    # Fresh statistics, as autovacuum keeps them in production: without them the planner may take
    # the tables for the near-empty ones earlier tests left and pick nested loops over 10,000 orgs.
    with connection.cursor() as cursor:
        for model in (Organization, CustomerRelation, Subscription):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return reseller


def _queries_of_a_run() -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        issued = invoice_monthly_run(today=RUN_DAY)
    return issued, len(queries)


def test_the_number_of_queries_does_not_grow_with_customer_orgs():
    _populate(50, 50, tag="a")
    small_issued, small_queries = _queries_of_a_run()

    _populate(500, 500, tag="b")
    large_issued, large_queries = _queries_of_a_run()

    assert small_issued == 1 + 50 and large_issued == 1 + 500
    assert large_queries == small_queries, (small_queries, large_queries)
    assert small_queries <= 20
    # and a rerun over everything issues nothing, again in constant queries
    rerun_issued, rerun_queries = _queries_of_a_run()
    assert rerun_issued == 0 and rerun_queries <= small_queries


@pytest.mark.scale
def test_the_monthly_run_over_10000_customer_orgs_stays_fast_and_constant():
    reseller = _populate(10_000, 1_000, tag="x")
    started = time.monotonic()
    issued, queries = _queries_of_a_run()
    elapsed = time.monotonic() - started

    assert issued == 1 + 1_000
    assert queries <= 20
    assert elapsed < 60, f"the run took {elapsed:.1f} s"
    partner_invoice = Invoice.objects.get(recipient=reseller)
    assert InvoiceLine.objects.filter(invoice=partner_invoice).values("customer").distinct().count() == 10_000
    # 10,000 × (3 × 9.60 + 7 × 0.28) = 10,000 × 30.76
    assert partner_invoice.net_total == Decimal("307600.00")
    assert partner_invoice.gross_total == Decimal("366044.00")
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 1_002))
