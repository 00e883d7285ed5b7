"""Issue 13, large invoices: the sums per customer are stored when an invoice (or a credit note) is
issued, and the detail page and API read a page of them instead of grouping every line per
request. Invoices issued before get theirs from the data migration."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count, Min, Sum
from django.test.utils import CaptureQueriesContext

from invoices.models import ImmutableInvoiceError, InvoiceCustomerTotal, InvoiceLine
from invoices.selectors import invoice_section_counts, invoice_section_totals, section_total
from invoices.services.credit_notes import CreditLine, credit_note_issue
from organizations.roles import OrgRole
from tests import factories

from .factories import customer, issue, line, partner

pytestmark = pytest.mark.django_db


def computed(invoice) -> list[tuple]:
    """The sums per customer as grouping the lines gives them (what every request did before)."""
    rows = (
        InvoiceLine.objects.filter(invoice=invoice)
        .values("customer_id")
        .annotate(first=Min("position"), lines=Count("pk"), total=Sum("net_amount"), name=Min("customer_name"))
        .order_by("first")
    )
    return [(r["customer_id"], r["name"], r["first"], r["lines"], r["total"]) for r in rows]


def stored(invoice) -> list[tuple]:
    return list(
        InvoiceCustomerTotal.objects.filter(invoice=invoice)
        .order_by("position")
        .values_list("customer_id", "customer_name", "position", "line_count", "subtotal")
    )


@pytest.fixture
def partner_invoice():
    reseller = partner(name="Summen Partner GmbH")
    customers = [customer(name=f"Kunde {n} AG") for n in range(4)]
    lines = [
        line(reseller, c, quantity=str(q + 1), unit_price=f"{3 * n + q}.35")
        for n, c in enumerate(customers)
        for q in range(n + 1)
    ]
    [invoice] = issue(*lines)
    return invoice


def test_issue13_stored_sums_per_customer_equal_the_computed_ones(partner_invoice):
    assert len(stored(partner_invoice)) == 4
    assert stored(partner_invoice) == computed(partner_invoice)
    assert sum(row[4] for row in stored(partner_invoice)) == partner_invoice.net_total
    # a direct customer's invoice: one section, its own
    direct = customer(name="Direkt GmbH")
    [own] = issue(line(direct, quantity="2"), line(direct, unit_price="0.99"))
    assert stored(own) == computed(own) == [(direct.pk, "Direkt GmbH", 1, 2, Decimal("20.99"))]


def test_issue13_credit_notes_store_their_sums_too(partner_invoice):
    full = credit_note_issue(invoice=partner_invoice, lines=[CreditLine(position=1)], reason="Doppelt")
    assert stored(full) == computed(full) and stored(full)[0][4] < 0
    positions = list(partner_invoice.lines.order_by("-position").values_list("position", flat=True)[:3])
    part = credit_note_issue(
        invoice=partner_invoice, lines=[CreditLine(position=p, quantity=Decimal("1")) for p in positions], reason="x"
    )
    assert stored(part) == computed(part)
    assert sum(row[4] for row in stored(part)) == part.net_total


def test_issue13_stored_sums_are_immutable(partner_invoice):
    total = InvoiceCustomerTotal.objects.filter(invoice=partner_invoice).first()
    total.subtotal = Decimal("0")
    with pytest.raises(ImmutableInvoiceError):
        total.save()
    with pytest.raises(ImmutableInvoiceError):
        InvoiceCustomerTotal.objects.filter(invoice=partner_invoice).update(subtotal=0)
    with pytest.raises(ImmutableInvoiceError):
        InvoiceCustomerTotal.objects.filter(invoice=partner_invoice).delete()


def test_issue13_sections_read_the_stored_sums_without_grouping_the_lines(partner_invoice):
    """Old code: a GROUP BY over every line of the invoice on each page and API request."""
    with CaptureQueriesContext(connection) as queries:
        rows = [section_total(row) for row in invoice_section_totals(invoice=partner_invoice)[:2]]
        counts = invoice_section_counts(invoice=partner_invoice)
    assert [r.customer_name for r in rows] == ["Kunde 0 AG", "Kunde 1 AG"]
    assert counts == (10, 4)
    assert all("billing_invoiceline" not in q["sql"] for q in queries.captured_queries)
    assert all("GROUP BY" not in q["sql"] for q in queries.captured_queries)


def test_issue13_the_data_migration_fills_the_sums_of_invoices_issued_before(partner_invoice):
    expected = stored(partner_invoice)
    [other] = issue(
        line(customer(name="Einzel GmbH")), period=(partner_invoice.period_start, partner_invoice.period_end)
    )
    other_rows = stored(other)
    with connection.cursor() as cursor:  # as before the sums were stored
        cursor.execute("DELETE FROM invoices_invoicecustomertotal WHERE invoice_id = %s", [partner_invoice.pk])
    migration = importlib.import_module("invoices.migrations.0007_fill_customer_totals")
    migration.fill(apps, None)
    migration.fill(apps, None)  # safe to run again: nothing doubled
    assert stored(partner_invoice) == expected
    assert stored(other) == other_rows


def test_issue13_the_invoice_list_in_a_customer_org_shows_its_stored_part(partner_invoice, client):
    reseller = partner_invoice.recipient
    kunde = InvoiceCustomerTotal.objects.filter(invoice=partner_invoice).order_by("position").last()
    factories.link(reseller, kunde.customer)
    client.force_login(factories.member(reseller, OrgRole.OWNER))
    from django.urls import reverse

    response = client.get(reverse("invoice-list", kwargs={"org": kunde.customer.public_id}))
    assert response.status_code == 200
    [row] = response.context["object_list"]
    assert row.customer_subtotal == kunde.subtotal
