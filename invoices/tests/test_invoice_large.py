"""Issue 13 (scale), large invoices stay usable: the detail page and the API show totals, one sum
per customer section and the lines a page at a time (constant queries, constant size however many
lines); the whole itemisation is a streamed CSV; the PDF is never rendered in a request."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.models import Invoice
from invoices.selectors import LINES_PER_PAGE
from invoices.services import issuing
from organizations.roles import OrgRole
from portal.models import OutboxMessage
from tests import factories

from .factories import customer, issue, line, partner

pytestmark = pytest.mark.django_db

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def big(media_roots):
    """A partner with two linked customers; a small invoice (October) and one ten times larger
    (November), both with the lines of both customers."""
    reseller = partner(name="Großpartner GmbH")
    one, two = customer(name="Kunde Eins AG"), customer(name="Kunde Zwei AG")
    factories.link(reseller, one)
    factories.link(reseller, two)

    def lines(count, period=None):
        extra = {"period": period} if period else {}
        return [
            line(reseller, one if n % 3 else two, quantity=str(n % 7 + 1), unit_price="2.5000", **extra)
            for n in range(count)
        ]

    [small] = issue(*lines(3 * LINES_PER_PAGE // 2))
    [large] = issue(*lines(15 * LINES_PER_PAGE, NOVEMBER), period=NOVEMBER)
    return {
        "partner": reseller,
        "one": one,
        "two": two,
        "small": small,
        "large": large,
        "owner": factories.member(reseller, OrgRole.OWNER),
    }


def _count(client, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code in (200, 202), (url, response.status_code, body[:300])
    return len(queries), response, body


def page_url(org, invoice, name="invoice-detail"):
    return reverse(name, kwargs={"org": org.public_id, "invoice_id": invoice.pk})


def api_url(org, invoice, suffix=""):
    return f"/api/v1/organizations/{org.public_id}/invoices/{invoice.pk}/{suffix}"


def test_issue13_detail_page_is_paginated_with_constant_queries(big, client):
    client.force_login(big["owner"])
    small_queries, _, small_body = _count(client, page_url(big["partner"], big["small"]))
    large_queries, response, large_body = _count(client, page_url(big["partner"], big["large"]))
    assert large_queries == small_queries
    assert len(response.context["lines"]) == LINES_PER_PAGE
    assert response.context["page_obj"].paginator.num_pages == 15
    # the page is the same size however many lines the invoice has (old code: every line)
    assert len(large_body) < 1.5 * len(small_body)
    # the sums per customer cover all lines, not only the page's
    sections = {section.customer_name: section for section in response.context["sections"]}
    assert sections["Kunde Eins AG"].line_count + sections["Kunde Zwei AG"].line_count == 15 * LINES_PER_PAGE
    assert sum(section.subtotal for section in sections.values()) == big["large"].net_total
    # page 3, and a page number out of range falls back to the last page, never a 500
    third = client.get(page_url(big["partner"], big["large"]) + "?page=3")
    assert [line.position for line in third.context["lines"]][0] == 2 * LINES_PER_PAGE + 1
    assert client.get(page_url(big["partner"], big["large"]) + "?page=999").context["page_obj"].number == 15
    assert client.get(page_url(big["partner"], big["large"]) + "?page=x").status_code == 200


def test_issue13_api_detail_has_sums_and_a_paginated_lines_link(big, client):
    client.force_login(big["owner"])
    small_queries, _, _ = _count(client, api_url(big["partner"], big["small"]))
    large_queries, response, body = _count(client, api_url(big["partner"], big["large"]))
    assert large_queries == small_queries
    data = response.json()
    assert len(body) < 4000  # old code: every line inline (2.6 MB at 10,000 lines)
    assert data["lines_url"].endswith(api_url(big["partner"], big["large"], "lines/"))
    assert data["itemisation_url"].endswith(api_url(big["partner"], big["large"], "itemisation/"))
    assert sorted(s["customer"]["name"] for s in data["sections"]) == ["Kunde Eins AG", "Kunde Zwei AG"]
    assert sum(s["line_count"] for s in data["sections"]) == 15 * LINES_PER_PAGE
    assert sum(Decimal(s["subtotal"]) for s in data["sections"]) == big["large"].net_total

    small_lines, _, _ = _count(client, api_url(big["partner"], big["small"], "lines/?page=2"))
    large_lines, response, _ = _count(client, api_url(big["partner"], big["large"], "lines/?page=2&page_size=100"))
    assert large_lines == small_lines
    page = response.json()
    assert page["count"] == 15 * LINES_PER_PAGE and len(page["results"]) == 100
    first = page["results"][0]
    assert first["position"] == 101 and set(first["customer"]) == {"public_id", "name"}
    assert client.get(api_url(big["partner"], big["large"], "lines/?page=999")).status_code == 404


def test_issue13_partner_staff_in_a_customer_org_get_only_that_customers_lines(big, client):
    client.force_login(big["owner"])
    two = big["two"]
    page = client.get(page_url(two, big["large"]))
    assert page.status_code == 200 and {line.customer_id for line in page.context["lines"]} == {two.pk}
    data = client.get(api_url(two, big["large"])).json()
    assert [s["customer"]["public_id"] for s in data["sections"]] == [two.public_id]
    lines = client.get(api_url(two, big["large"], "lines/?page_size=100")).json()
    assert lines["count"] == 5 * LINES_PER_PAGE
    assert {row["customer"]["public_id"] for row in lines["results"]} == {two.public_id}
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get(page_url(two, big["large"], "invoice-itemisation")).streaming_content).decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert {row[1] for row in rows[1:]} == {two.public_id} and len(rows) == 1 + 5 * LINES_PER_PAGE


def _csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_issue13_itemisation_csv_lists_every_line_with_its_customer(big, client):
    client.force_login(big["owner"])
    invoice = big["large"]
    issuing.invoice_pdf_job({"invoice_id": invoice.pk})  # the worker's part: the stored CSV
    queries, response, body = _count(client, page_url(big["partner"], invoice, "invoice-itemisation"))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{invoice.number}-itemisation.csv"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    rows = _csv_rows(body)
    assert rows[0][:3] == ["Invoice number", "Customer ID", "Customer"]
    assert len(rows) == 1 + 15 * LINES_PER_PAGE
    first = rows[1]
    db_line = invoice.lines.select_related("customer").get(position=1)
    assert first == [
        invoice.number,
        db_line.customer.public_id,
        db_line.customer_name,
        "1",
        db_line.description,
        "2026-11-01",
        "2026-11-30",
        f"{db_line.quantity:f}",
        "2.5000",
        f"{db_line.net_amount:f}",
        "EUR",
    ]
    assert sum(Decimal(row[9]) for row in rows[1:]) == invoice.net_total  # plain decimals, no "1.234,50"
    # the same stored file from the API, whoever asks (headers in the invoice's language)
    type(big["owner"]).objects.filter(pk=big["owner"].pk).update(language="de")
    german = client.get(api_url(big["partner"], invoice, "itemisation/"))
    assert german.status_code == 200 and _csv_rows(_body(german)) == rows
    assert "Einzelaufstellung" in german["Content-Disposition"]


def test_issue13_itemisation_csv_is_being_prepared_never_built_in_the_request(big, client, monkeypatch):
    """Item "the itemisation CSV download": the whole invoice's CSV is built by the worker and
    stored; a request answers 202 "being prepared" until then (old code: every line streamed from
    the database inside the request, 12x a bare page at 10,000 lines)."""
    from invoices import itemisation

    def builder_must_not_run(*args, **kwargs):
        raise AssertionError("the itemisation was built inside the request")

    monkeypatch.setattr(itemisation, "itemisation_rows", builder_must_not_run)
    client.force_login(big["owner"])
    invoice = big["large"]
    OutboxMessage.objects.filter(dedupe_key=f"invoice-deliver-{invoice.pk}").update(status=OutboxMessage.Status.DONE)
    page = client.get(page_url(big["partner"], invoice, "invoice-itemisation"))
    assert page.status_code == 202 and page["Content-Type"].startswith("text/html")
    assert "The itemisation (CSV) is being prepared" in page.content.decode() and page["Retry-After"] == "5"
    for url in (api_url(big["partner"], invoice, "itemisation/"), f"/api/v1/invoices/{invoice.pk}/itemisation/"):
        response = client.get(url, HTTP_ACCEPT="text/csv")
        assert response.status_code == 202 and response.json()["status"] == "being_prepared", url
    type(big["owner"]).objects.filter(pk=big["owner"].pk).update(language="de")
    assert "Einzelaufstellung (CSV) wird gerade erstellt" in client.get(
        page_url(big["partner"], invoice, "invoice-itemisation")
    ).content.decode("utf-8")
    assert not Invoice.objects.get(pk=invoice.pk).itemisation
    [job] = _pdf_rows(invoice)  # queued exactly once however often one asks
    assert job.kind == issuing.PDF_KIND and job.status == OutboxMessage.Status.PENDING


def test_issue13_itemisation_csv_is_stored_privately_once_in_the_invoices_language(big, settings, monkeypatch):
    from pathlib import Path

    monkeypatch.setattr(issuing, "invoice_render_pdf", lambda invoice: b"%PDF-1.7 test")
    invoice = big["small"]
    stored = issuing.invoice_pdf_ensure(invoice=invoice)
    path = Path(stored.itemisation.path)
    assert path.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT)) and path.parent == Path(stored.pdf.path).parent
    assert invoice.number not in stored.itemisation.name and stored.itemisation.name.endswith(".csv")
    rows = _csv_rows(path.read_bytes())
    assert rows[0][0] == "Invoice number" and len(rows) == 1 + invoice.lines.count()
    stale = Invoice.objects.get(pk=invoice.pk)
    stale.itemisation = ""
    assert issuing.invoice_pdf_ensure(invoice=stale).itemisation.name == stored.itemisation.name


@pytest.mark.django_db(transaction=True)
def test_issue13_itemisation_csv_lifecycle_through_the_real_worker(media_roots, client, celery_live_worker):
    """202 until the worker has stored it, then the file; a German invoice has German headers."""
    import time

    reseller = partner(name="Echtzeit Partner GmbH")
    owner = factories.member(reseller, OrgRole.OWNER, language="de")
    one = customer(name="Kunde Eins AG")
    factories.link(reseller, one)
    [invoice] = issue(*[line(reseller, one) for _ in range(3)])
    client.force_login(owner)
    url = api_url(reseller, invoice, "itemisation/")
    deadline = time.monotonic() + 60
    response = client.get(url)
    while response.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.3)
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    rows = _csv_rows(_body(response))
    assert rows[0][:3] == ["Rechnungsnummer", "Kundennummer", "Kunde"] and len(rows) == 4
    assert {row[1] for row in rows[1:]} == {one.public_id}


def _pdf_rows(invoice):
    return OutboxMessage.objects.filter(dedupe_key=f"invoice-pdf-{invoice.pk}")


def test_issue13_pdf_is_being_prepared_never_rendered_in_the_request(big, client, monkeypatch):
    def renderer_must_not_run(invoice):
        raise AssertionError("the PDF was rendered inside the request")

    monkeypatch.setattr(issuing, "invoice_render_pdf", renderer_must_not_run)
    client.force_login(big["owner"])
    invoice = big["large"]
    # issued inside the test transaction: its delivery job never ran
    OutboxMessage.objects.filter(dedupe_key=f"invoice-deliver-{invoice.pk}").update(status=OutboxMessage.Status.DONE)
    detail = client.get(page_url(big["partner"], invoice)).content.decode()
    assert "The PDF is being prepared" in detail
    assert page_url(big["partner"], invoice, "invoice-pdf") not in detail
    browser = client.get(page_url(big["partner"], invoice, "invoice-pdf"))
    assert browser.status_code == 202 and browser["Content-Type"].startswith("text/html")
    assert "being prepared" in browser.content.decode() and browser["Retry-After"] == "5"
    api = client.get(api_url(big["partner"], invoice, "pdf/"), HTTP_ACCEPT="application/pdf")
    assert api.status_code == 202 and api.json()["status"] == "being_prepared"
    assert client.get(api_url(big["partner"], invoice)).json()["pdf_ready"] is False
    type(big["owner"]).objects.filter(pk=big["owner"].pk).update(language="de")
    german = client.get(page_url(big["partner"], invoice, "invoice-pdf"))
    assert "wird gerade erstellt" in german.content.decode()
    # nothing rendered or stored; the PDF job is queued exactly once however often one asks
    assert not Invoice.objects.get(pk=invoice.pk).pdf
    [job] = _pdf_rows(invoice)
    assert job.kind == issuing.PDF_KIND and job.status == OutboxMessage.Status.PENDING
    assert job.payload == {"invoice_id": invoice.pk}


def test_issue13_pdf_job_waits_for_delivery_and_is_rearmed_when_it_left_no_pdf(big, client, monkeypatch):
    monkeypatch.setattr(issuing, "invoice_render_pdf", lambda invoice: b"%PDF-1.7 test")
    client.force_login(big["owner"])
    invoice = big["small"]
    # the delivery job is still pending: it renders the PDF, so nothing more is queued
    assert client.get(page_url(big["partner"], invoice, "invoice-pdf")).status_code == 202
    assert not _pdf_rows(invoice).exists()
    # delivery done without a PDF (e.g. the file was lost): a PDF job is queued, re-armed when finished
    OutboxMessage.objects.filter(dedupe_key=f"invoice-deliver-{invoice.pk}").update(status=OutboxMessage.Status.DONE)
    assert client.get(page_url(big["partner"], invoice, "invoice-pdf")).status_code == 202
    _pdf_rows(invoice).update(status=OutboxMessage.Status.FAILED, attempts=5)
    assert client.get(api_url(big["partner"], invoice, "pdf/")).status_code == 202
    [job] = _pdf_rows(invoice)
    assert job.status == OutboxMessage.Status.PENDING and job.attempts == 0
    # the worker's job renders and stores it; from then on the file is served
    issuing.invoice_pdf_job(job.payload)
    response = client.get(page_url(big["partner"], invoice, "invoice-pdf"))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200 and body.startswith(b"%PDF")
    assert "The PDF is being prepared" not in client.get(page_url(big["partner"], invoice)).content.decode()


# --- issue 13 (second round): XRechnung built by the worker, sums per customer paginated -------


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _xrechnung_urls(big, invoice):
    org = big["partner"]
    return (
        page_url(org, invoice, "invoice-xrechnung"),
        api_url(org, invoice, "xrechnung/"),
        f"/api/v1/invoices/{invoice.pk}/xrechnung/",
    )


def test_issue13_xrechnung_is_being_prepared_never_built_in_the_request(big, client, monkeypatch):
    from invoices import einvoice

    def builder_must_not_run(*args, **kwargs):
        raise AssertionError("the XRechnung XML was built inside the request")

    monkeypatch.setattr(einvoice, "einvoice_xml", builder_must_not_run)
    client.force_login(big["owner"])
    invoice = big["large"]
    OutboxMessage.objects.filter(dedupe_key=f"invoice-deliver-{invoice.pk}").update(status=OutboxMessage.Status.DONE)
    page, api, across = _xrechnung_urls(big, invoice)
    browser = client.get(page)
    assert browser.status_code == 202 and browser["Content-Type"].startswith("text/html")
    assert "The XRechnung XML is being prepared" in browser.content.decode() and browser["Retry-After"] == "5"
    assert browser["Cache-Control"] == "private, no-store"
    for url in (api, across):
        response = client.get(url, HTTP_ACCEPT="application/xml")
        assert response.status_code == 202 and response.json()["status"] == "being_prepared", url
        assert response["Retry-After"] == "5"
    type(big["owner"]).objects.filter(pk=big["owner"].pk).update(language="de")
    assert "wird gerade erstellt" in client.get(page).content.decode()
    # nothing built or stored; the worker's job is queued exactly once however often one asks
    assert not Invoice.objects.get(pk=invoice.pk).xrechnung
    [job] = _pdf_rows(invoice)
    assert job.kind == issuing.PDF_KIND and job.status == OutboxMessage.Status.PENDING


def test_issue13_xrechnung_is_built_once_by_the_worker_stored_privately_and_served(big, client, monkeypatch, settings):
    from pathlib import Path

    from invoices.einvoice import XRECHNUNG, einvoice_xml_check

    monkeypatch.setattr(issuing, "invoice_render_pdf", lambda invoice: b"%PDF-1.7 test")
    client.force_login(big["owner"])
    invoice = big["small"]
    OutboxMessage.objects.filter(dedupe_key=f"invoice-deliver-{invoice.pk}").update(status=OutboxMessage.Status.DONE)
    assert all(client.get(url).status_code == 202 for url in _xrechnung_urls(big, invoice))
    [job] = _pdf_rows(invoice)
    issuing.invoice_pdf_job(job.payload)  # what the worker runs
    stored = Invoice.objects.get(pk=invoice.pk)
    # private, under a random name next to the PDF, never the invoice number
    path = Path(stored.xrechnung.path)
    assert path.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT)) and path.parent == Path(stored.pdf.path).parent
    assert invoice.number not in stored.xrechnung.name and stored.xrechnung.name.endswith(".xml")
    for url in _xrechnung_urls(big, invoice):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/xml" and response["Cache-Control"] == "private, no-store"
        assert f'attachment; filename="xrechnung-{invoice.number}.xml"' == response["Content-Disposition"]
        body = _body(response)
        assert body == path.read_bytes()
        einvoice_xml_check(body)
        assert XRECHNUNG.encode() in body
    # stored once: a stale copy (a second worker) never replaces it
    stale = Invoice.objects.get(pk=invoice.pk)
    stale.xrechnung = ""
    assert issuing.invoice_pdf_ensure(invoice=stale).xrechnung.name == stored.xrechnung.name
    assert sorted(p.name.split(".", 1)[1] for p in path.parent.iterdir()) == ["csv", "pdf", "xml", "xml.gz"]
    # same refusals as the PDF: 404 to everyone who may not see the invoice
    client.logout()
    assert all(client.get(url).status_code == 404 for url in _xrechnung_urls(big, invoice))
    client.force_login(factories.member(big["two"], OrgRole.OWNER))
    assert all(client.get(url).status_code == 404 for url in _xrechnung_urls(big, invoice))


def test_issue13_xrechnung_is_sent_gzip_compressed_to_clients_that_accept_gzip(big, client, monkeypatch, settings):
    """The XML of 10,000 lines is 12.5 MB: the worker stores a gzip copy beside it, and a client
    that accepts gzip gets that copy (the same document, `Content-Encoding: gzip`) instead of the
    megabytes (issue 13: the download was 9-11x a bare page at scale)."""
    import gzip
    from pathlib import Path

    from django_sendfile.utils import _get_sendfile

    monkeypatch.setattr(issuing, "invoice_render_pdf", lambda invoice: b"%PDF-1.7 test")
    invoice = issuing.invoice_pdf_ensure(invoice=big["large"])
    path = Path(invoice.xrechnung.path)
    compressed = Path(f"{path}.gz")
    assert gzip.decompress(compressed.read_bytes()) == path.read_bytes()
    assert compressed.stat().st_size * 10 < path.stat().st_size
    client.force_login(big["owner"])
    for url in _xrechnung_urls(big, invoice):
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response.status_code == 200 and response["Content-Encoding"] == "gzip", url
        assert response["Content-Type"] == "application/xml" and "Accept-Encoding" in response["Vary"]
        assert f'attachment; filename="xrechnung-{invoice.number}.xml"' == response["Content-Disposition"]
        assert gzip.decompress(_body(response)) == path.read_bytes()
        plain = client.get(url)  # no Accept-Encoding: the XML as stored
        assert not plain.has_header("Content-Encoding") and _body(plain) == path.read_bytes()
        assert "Accept-Encoding" in plain["Vary"]
    # behind nginx the proxy sends the file (and picks the .gz itself: gzip_static)
    settings.SENDFILE_BACKEND = "django_sendfile.backends.nginx"
    settings.SENDFILE_URL = "/protected"
    _get_sendfile.cache_clear()
    try:
        response = client.get(_xrechnung_urls(big, invoice)[0], HTTP_ACCEPT_ENCODING="gzip")
    finally:
        _get_sendfile.cache_clear()
    assert response["X-Accel-Redirect"] == f"/protected/{invoice.xrechnung.name}"
    assert not response.has_header("Content-Encoding") and not response.content


def test_issue13_an_invoice_with_a_pdf_but_no_xrechnung_gets_the_xml_alone(big, client, monkeypatch):
    """Invoices whose PDF was stored before the XML was: asking for the XML re-arms the job, which
    builds the XML and leaves the PDF as it is."""
    monkeypatch.setattr(issuing, "invoice_render_pdf", lambda invoice: b"%PDF-1.7 first")
    invoice = issuing.invoice_pdf_ensure(invoice=big["small"])
    pdf_name = invoice.pdf.name
    invoice.xrechnung.delete(save=False)
    with connection.cursor() as cursor:  # as before this change: a PDF and no XML
        cursor.execute("UPDATE billing_invoice SET xrechnung = '' WHERE id = %s", [invoice.pk])
    OutboxMessage.objects.filter(dedupe_key=f"invoice-deliver-{invoice.pk}").update(status=OutboxMessage.Status.DONE)

    def renderer_must_not_run(invoice):
        raise AssertionError("the PDF was rendered again")

    monkeypatch.setattr(issuing, "invoice_render_pdf", renderer_must_not_run)
    client.force_login(big["owner"])
    assert client.get(page_url(big["partner"], invoice, "invoice-pdf")).status_code == 200
    assert client.get(page_url(big["partner"], invoice, "invoice-xrechnung")).status_code == 202
    [job] = _pdf_rows(invoice)
    issuing.invoice_pdf_job(job.payload)
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.pdf.name == pdf_name and stored.xrechnung
    assert client.get(page_url(big["partner"], invoice, "invoice-xrechnung")).status_code == 200


@pytest.fixture
def many_customers(media_roots):
    """Two partner invoices: one with 6 customers, one with ten times as many (more than a page)."""
    reseller = partner(name="Vielkunden GmbH")
    customers = [customer(name=f"Kunde {n:03d} AG") for n in range(60)]
    [few] = issue(*[line(reseller, c) for c in customers[:6]])
    [many] = issue(*[line(reseller, c, unit_price=f"{n + 1}.00") for n, c in enumerate(customers)], period=NOVEMBER)
    return {"partner": reseller, "few": few, "many": many, "owner": factories.member(reseller, OrgRole.OWNER)}


def test_issue13_detail_page_paginates_the_sums_per_customer(many_customers, client):
    from invoices.selectors import SECTIONS_PER_PAGE

    data = many_customers
    client.force_login(data["owner"])
    few_queries, _, _ = _count(client, page_url(data["partner"], data["few"]))
    many_queries, response, body = _count(client, page_url(data["partner"], data["many"]))
    assert many_queries == few_queries
    # old code: all 60 sums on the page
    assert len(response.context["sections"]) == SECTIONS_PER_PAGE < 60
    assert [s.customer_name for s in response.context["sections"]][:2] == ["Kunde 000 AG", "Kunde 001 AG"]
    assert b"sections_page=2" in body
    second = client.get(page_url(data["partner"], data["many"]) + "?sections_page=2&page=1")
    names = [s.customer_name for s in second.context["sections"]]
    assert names == [f"Kunde {n:03d} AG" for n in range(SECTIONS_PER_PAGE, min(2 * SECTIONS_PER_PAGE, 60))]
    assert second.context["page_obj"].number == 1  # the lines keep their own page
    assert client.get(page_url(data["partner"], data["many"]) + "?sections_page=x").status_code == 200
    assert client.get(page_url(data["partner"], data["many"]) + "?sections_page=999").context["sections"]


def test_issue13_api_detail_bounds_the_sums_and_links_their_paginated_endpoint(many_customers, client):
    data = many_customers
    client.force_login(data["owner"])
    few_queries, _, _ = _count(client, api_url(data["partner"], data["few"]))
    many_queries, response, _ = _count(client, api_url(data["partner"], data["many"]))
    assert many_queries == few_queries
    detail = response.json()
    assert detail["section_count"] == 60 and len(detail["sections"]) == 50  # old code: all 60
    assert detail["sections_url"].endswith(api_url(data["partner"], data["many"], "sections/"))
    few_pages, _, _ = _count(client, api_url(data["partner"], data["few"], "sections/"))
    many_pages, response, _ = _count(client, api_url(data["partner"], data["many"], "sections/?page=2&page_size=25"))
    assert many_pages == few_pages
    page = response.json()
    assert page["count"] == 60 and len(page["results"]) == 25
    assert page["results"][0]["customer"]["name"] == "Kunde 025 AG" and page["results"][0]["subtotal"] == "26.00"
    everything = []
    for number in (1, 2):
        everything += client.get(
            api_url(data["partner"], data["many"], f"sections/?page={number}&page_size=50")
        ).json()["results"]
    assert sum(Decimal(s["subtotal"]) for s in everything) == data["many"].net_total
    across = client.get(f"/api/v1/invoices/{data['many'].pk}/sections/").json()
    assert across["count"] == 60
    bad = client.get(api_url(data["partner"], data["many"], "sections/?page=999"))
    assert bad.status_code == 404 and "error" in bad.json()
