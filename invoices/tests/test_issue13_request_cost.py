"""Issue 13 (scale): what an invoice page, list or download reads and how a stored file is sent.

The bench measures the time; these pin the shape that keeps it low: no whole org per line, no
COUNT where the first page tells the total, no joins for a file download, files streamed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoices.services import issuing
from organizations.roles import OrgRole
from portal.statements import executed_sql
from tests import factories

from .factories import customer, issue, line, partner
from .test_invoice_large import _xrechnung_urls, api_url, page_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(media_roots):
    """A partner with three linked customers and three invoices addressed to it."""
    reseller = partner(name="Zählpartner GmbH")
    customers = [customer(name=f"Kunde {n} AG") for n in range(3)]
    for each in customers:
        factories.link(reseller, each)
    issued = []
    for month in (9, 10, 11):
        period = (date(2026, month, 1), date(2026, month, 28))
        lines = [line(reseller, each, quantity="3", unit_price="2.5000", period=period) for each in customers]
        issued += issue(*lines, period=period)
    return {"partner": reseller, "invoices": issued, "owner": factories.member(reseller, OrgRole.OWNER)}


def _queries(client, url, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
        body = response.getvalue()
    assert response.status_code == 200, (url, response.status_code, body[:300])
    # a compiled statement's text for its EXECUTE (portal.statements)
    return [executed_sql(q["sql"]) for q in captured.captured_queries], response, body


# An org column that only a whole joined org would select.
WHOLE_ORG = '"organizations_organization"."billing_email"'


def test_issue13_invoice_lines_carry_the_customers_identifier_not_the_whole_org(invoices, client):
    client.force_login(invoices["owner"])
    invoice = invoices["invoices"][0]
    sql, response, _ = _queries(client, api_url(invoices["partner"], invoice, "lines/"))
    [lines] = [q for q in sql if 'FROM "billing_invoiceline"' in q and "ORDER BY" in q]
    assert WHOLE_ORG not in lines
    rows = response.json()["results"]
    assert {row["customer"]["public_id"] for row in rows} == {
        line.customer.public_id for line in invoice.lines.select_related("customer")
    }
    sql, _, body = _queries(client, page_url(invoices["partner"], invoice))
    [lines] = [q for q in sql if 'FROM "billing_invoiceline"' in q and "ORDER BY" in q]
    assert WHOLE_ORG not in lines
    # the cells formatted in the view read as the template's filters wrote them
    text = body.decode()
    assert "Customer: Kunde 0 AG" in text and "€7.50" in text and "2.50" in text


def test_issue13_invoice_api_list_reads_its_page_and_the_total_in_one_query(invoices, client):
    client.force_login(invoices["owner"])
    for url in (f"/api/v1/organizations/{invoices['partner'].public_id}/invoices/", "/api/v1/invoices/"):
        for params, count, listed in (({}, 3, 3), ({"page_size": 2}, 3, 2), ({"page_size": 2, "page": 2}, 3, 1)):
            sql, response, _ = _queries(client, url, data=params)
            data = response.json()
            assert (data["count"], len(data["results"])) == (count, listed), (url, params)
            assert not [q for q in sql if "COUNT(*) AS" in q], (url, params)  # no COUNT query of its own
            [page] = [q for q in sql if 'FROM "billing_invoice"' in q]
            assert "OVER ()" in page and WHOLE_ORG not in page  # of the recipient only what is shown
        assert client.get(url, {"page_size": 2, "page": 3}).status_code == 404
        assert client.get(url, {"page": "last", "page_size": 2}).json()["results"]
    # nobody's invoices: an empty first page, count 0
    nobody = factories.member(customer(name="Ohne Rechnung GmbH"), OrgRole.OWNER)
    client.force_login(nobody)
    data = client.get("/api/v1/invoices/").json()
    assert data["count"] == 0 and data["results"] == []


def test_issue13_file_downloads_read_the_invoice_without_joins(invoices, client, monkeypatch):
    monkeypatch.setattr(issuing, "invoice_render_pdf", lambda invoice: b"%PDF-1.7 test")
    invoice = issuing.invoice_pdf_ensure(invoice=invoices["invoices"][0])
    client.force_login(invoices["owner"])
    for url in (
        f"/api/v1/invoices/{invoice.pk}/xrechnung/",
        api_url(invoices["partner"], invoice, "xrechnung/"),
        f"/api/v1/invoices/{invoice.pk}/pdf/",
    ):
        sql, response, _ = _queries(client, url)
        [lookup] = [q for q in sql if 'FROM "billing_invoice"' in q]
        # neither the corrected invoice nor the whole recipient org joined for a stored file
        assert 'JOIN "billing_invoice"' not in lookup and WHOLE_ORG not in lookup, url


def test_issue13_stored_files_are_streamed_with_the_simple_backends_headers(invoices, client, monkeypatch, settings):
    """With Django sending the bytes (no proxy), a stored file is streamed from disk (the XML of
    10,000 lines is 12.5 MB) and keeps django-sendfile2's ETag, Last-Modified and 304."""
    assert settings.SENDFILE_BACKEND == "django_sendfile.backends.simple"
    monkeypatch.setattr(issuing, "invoice_render_pdf", lambda invoice: b"%PDF-1.7 test")
    invoice = issuing.invoice_pdf_ensure(invoice=invoices["invoices"][0])
    client.force_login(invoices["owner"])
    big = {"partner": invoices["partner"], "owner": invoices["owner"]}
    for url in _xrechnung_urls(big, invoice):
        response = client.get(url)
        assert response.status_code == 200 and response.streaming, url
        assert response.getvalue() == invoice.xrechnung.open("rb").read()
        assert response["Content-Type"] == "application/xml"
        assert response["Content-Disposition"] == f'attachment; filename="xrechnung-{invoice.number}.xml"'
        assert int(response["Content-Length"]) == invoice.xrechnung.size
        assert response["Cache-Control"] == "private, no-store"
        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and response.has_header("Last-Modified")


def test_issue13_invoice_detail_counts_its_sections_without_summing_lines_and_shows_them_as_the_serializer(
    invoices, client
):
    from invoices.api.serializers import InvoiceSectionSerializer

    client.force_login(invoices["owner"])
    invoice = invoices["invoices"][0]
    for url in (f"/api/v1/invoices/{invoice.pk}/", api_url(invoices["partner"], invoice)):
        sql, response, _ = _queries(client, url)
        assert not [q for q in sql if 'SUM("invoices_invoicecustomertotal"."line_count")' in q], url
        data = response.json()
        assert data["section_count"] == 3 == len(data["sections"])
        expected = InvoiceSectionSerializer(
            [
                {
                    "customer": {"public_id": row["customer"]["public_id"], "name": row["customer"]["name"]},
                    "line_count": row["line_count"],
                    "subtotal": Decimal(row["subtotal"]),
                }
                for row in data["sections"]
            ],
            many=True,
        ).data
        assert data["sections"] == expected
        assert [row["subtotal"] for row in data["sections"]] == ["7.50"] * 3  # 3 × 2.50
        sections = client.get(api_url(invoices["partner"], invoice, "sections/")).json()["results"]
        assert sections == data["sections"]


def test_issue13_invoice_api_builds_no_filterset_unless_a_filter_is_asked_for(invoices, client, monkeypatch):
    from django_filters import filterset

    client.force_login(invoices["owner"])
    built = []
    original = filterset.BaseFilterSet.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(filterset.BaseFilterSet, "__init__", counting)
    invoice = invoices["invoices"][0]
    assert client.get(f"/api/v1/invoices/{invoice.pk}/").status_code == 200
    assert client.get("/api/v1/invoices/").json()["count"] == 3
    assert built == []
    # asked for: filtered as before, also a detail outside the filter (404)
    assert client.get("/api/v1/invoices/", {"period_start": "2026-10-01"}).json()["count"] == 1
    assert client.get(f"/api/v1/invoices/{invoice.pk}/", {"period_start": "2026-10-01"}).status_code == 404
    assert built
