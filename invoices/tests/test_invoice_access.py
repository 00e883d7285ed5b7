"""Invoices in the browser and the API: who sees what (BIL-5, ORG-6), PDF, sections, query budgets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.models import Invoice
from invoices.selectors import INVOICE_READS, invoice_for_user
from invoices.services.issuing import invoice_pdf_ensure
from organizations.models import Organization
from organizations.roles import OrgRole
from portal.tenancy import Scope, restrict
from tests import factories
from tests.world import build_world

from .factories import ADDRESSES, customer, issue, line, partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_world(media_roots):
    """The shared world (tests/world.py) with postal addresses (invoices need them), a second
    linked customer, the partner's invoice for both customers and the direct customer's invoice;
    the agency cares for the linked customer's project (`caretaker` is its Owner)."""
    world = build_world(
        accounts=(
            "partner_owner",
            "partner_member",
            "customer_owner",
            "customer_admin",
            "customer_guest",
            "direct_owner",
            "direct_member",
        )
    )
    reseller, linked, direct = world.partner, world.customer, world.direct
    postcode, city = ADDRESSES["DE"]
    Organization.objects.filter(pk=reseller.pk).update(
        street="Partnerweg 2", vat_id="DE136695976", postcode=postcode, city=city
    )
    Organization.objects.filter(pk__in=[linked.pk, direct.pk]).update(
        street="Hauptstraße 1", postcode=postcode, city=city
    )
    Organization.objects.filter(pk=linked.pk).update(name="Kunde Eins AG")
    for organization in (reseller, linked, direct):
        organization.refresh_from_db()
    other_linked = customer(name="Kunde Zwei AG")
    factories.link(reseller, other_linked)
    [partner_invoice, direct_invoice] = sorted(
        issue(
            line(reseller, linked, quantity="2", unit_price="10.00"),
            line(reseller, other_linked, quantity="1", unit_price="99.00"),
            line(direct, quantity="1", unit_price="5.00"),
        ),
        key=lambda invoice: invoice.recipient_id != reseller.pk,
    )
    return {
        "partner": reseller,
        "linked": linked,
        "other_linked": other_linked,
        "direct": direct,
        "agency": world.agency,
        "partner_invoice": partner_invoice,
        "direct_invoice": direct_invoice,
        "partner_owner": world.partner_owner,
        "partner_member": world.partner_member,
        "linked_owner": world.customer_owner,
        "linked_admin": world.customer_admin,
        "linked_guest": world.customer_guest,
        "direct_owner": world.direct_owner,
        "direct_member": world.direct_member,
        "caretaker": world.agency_owner,
    }


def _billing_urls(org, invoice) -> list[str]:
    public_id = org.public_id
    return [
        reverse("invoice-list", kwargs={"org": public_id}),
        reverse("invoice-detail", kwargs={"org": public_id, "invoice_id": invoice.pk}),
        reverse("invoice-pdf", kwargs={"org": public_id, "invoice_id": invoice.pk}),
        reverse("payment-method-list", kwargs={"org": public_id}),
        f"/api/v1/organizations/{public_id}/invoices/",
        f"/api/v1/organizations/{public_id}/invoices/{invoice.pk}/",
        f"/api/v1/organizations/{public_id}/invoices/{invoice.pk}/pdf/",
        f"/api/v1/organizations/{public_id}/payment-methods/",
        f"/api/v1/invoices/{invoice.pk}/",
        f"/api/v1/invoices/{invoice.pk}/pdf/",
    ]


@pytest.mark.parametrize("who", ["linked_owner", "linked_admin", "linked_guest", "caretaker"])
def test_a_partner_linked_customer_a_guest_and_a_caretaker_never_see_what_the_partner_pays(billing_world, client, who):
    """ORG-6: the customer's own accounts (Owner included) never see their partner's invoices,
    payment methods or subscriptions. BIL-8: the invoice area itself is open to the org's own
    Owners/Admins (invoices addressed to the org itself, here none); Guests get 403 there, and
    404 for a private file as always."""
    client.force_login(billing_world[who])
    linked = billing_world["linked"]
    lists = {
        reverse("invoice-list", kwargs={"org": linked.public_id}),
        f"/api/v1/organizations/{linked.public_id}/invoices/",
    }
    for url in _billing_urls(linked, billing_world["partner_invoice"]):
        expected = 404
        if url in lists and who in ("linked_owner", "linked_admin"):
            expected = 200
        elif (
            who == "linked_guest"
            and "/invoices/" in url
            and "/pdf/" not in url
            and not url.startswith("/api/v1/invoices/")
        ):
            expected = 403  # the org's invoice area is no longer hidden; a Guest's role lacks it
        response = client.get(url)
        assert response.status_code == expected, url
        if expected == 200 and url.startswith("/api/"):
            assert response.json()["count"] == 0
        elif expected == 200:
            assert billing_world["partner_invoice"].number not in response.content.decode()
    for url in (
        reverse("payment-method-list", kwargs={"org": linked.public_id}),
        f"/api/v1/organizations/{linked.public_id}/payment-methods/",
    ):
        assert client.post(url, {"kind": "bank_transfer"}).status_code == 404, url
    listing = client.get("/api/v1/invoices/").json()
    assert listing["count"] == 0


def test_partner_staff_find_the_customers_invoices_in_that_customer_org(billing_world, client):
    client.force_login(billing_world["partner_owner"])
    linked, invoice = billing_world["linked"], billing_world["partner_invoice"]
    page = client.get(reverse("invoice-list", kwargs={"org": linked.public_id}))
    assert page.status_code == 200
    html = page.content.decode()
    assert invoice.number in html and "20.00" in html  # this customer's net part
    detail = client.get(
        reverse("invoice-detail", kwargs={"org": linked.public_id, "invoice_id": invoice.pk})
    ).content.decode()
    assert "Kunde Eins AG" in detail and "Kunde Zwei AG" not in detail
    api = client.get(f"/api/v1/organizations/{linked.public_id}/invoices/{invoice.pk}/").json()
    assert [section["customer"]["name"] for section in api["sections"]] == ["Kunde Eins AG"]
    # A direct customer's invoice is not the partner's business.
    direct_invoice = billing_world["direct_invoice"]
    assert client.get(f"/api/v1/organizations/{linked.public_id}/invoices/{direct_invoice.pk}/").status_code == 404


def test_the_partner_sees_its_invoice_with_a_section_per_customer(billing_world, client):
    client.force_login(billing_world["partner_owner"])
    reseller, invoice = billing_world["partner"], billing_world["partner_invoice"]
    detail = client.get(reverse("invoice-detail", kwargs={"org": reseller.public_id, "invoice_id": invoice.pk}))
    html = detail.content.decode()
    assert "Customer: Kunde Eins AG" in html and "Customer: Kunde Zwei AG" in html
    api = client.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert api["number"] == invoice.number and api["gross_total"] == "141.61"
    assert [section["subtotal"] for section in api["sections"]] == ["20.00", "99.00"]
    listing = client.get("/api/v1/invoices/").json()
    assert [row["number"] for row in listing["results"]] == [invoice.number]
    nav = client.get(reverse("organization-dashboard", kwargs={"org": reseller.public_id})).content.decode()
    assert reverse("invoice-list", kwargs={"org": reseller.public_id}) in nav


def test_the_pdf_endpoints_answer_application_pdf(billing_world, client):
    client.force_login(billing_world["direct_owner"])
    direct, invoice = billing_world["direct"], billing_world["direct_invoice"]
    invoice_pdf_ensure(invoice=invoice)  # the worker's part (issue 13: never in a request)
    for url in (
        f"/api/v1/invoices/{invoice.pk}/pdf/",
        f"/api/v1/organizations/{direct.public_id}/invoices/{invoice.pk}/pdf/",
        reverse("invoice-pdf", kwargs={"org": direct.public_id, "invoice_id": invoice.pk}),
    ):
        response = client.get(url, HTTP_ACCEPT="application/pdf")
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert response.getvalue().startswith(b"%PDF")
    # The file was rendered once and is served again as stored.
    stored = Invoice.objects.get(pk=invoice.pk).pdf.name
    client.get(f"/api/v1/invoices/{invoice.pk}/pdf/")
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == stored


def test_a_direct_customer_member_may_not_read_invoices(billing_world, client):
    client.force_login(billing_world["direct_member"])
    direct = billing_world["direct"]
    assert client.get(reverse("invoice-list", kwargs={"org": direct.public_id})).status_code == 403
    assert client.get(f"/api/v1/invoices/{billing_world['direct_invoice'].pk}/").status_code == 404
    assert client.get("/api/v1/invoices/").json()["count"] == 0


def test_a_partner_member_does_not_reach_billing(billing_world, client):
    client.force_login(billing_world["partner_member"])
    assert client.get(reverse("invoice-list", kwargs={"org": billing_world["partner"].public_id})).status_code == 403
    assert client.get("/api/v1/invoices/").json()["count"] == 0


def test_anonymous_gets_401_from_the_invoice_api_and_404_for_a_pdf(billing_world, client):
    assert client.get("/api/v1/invoices/").status_code == 401
    # A private file answers 404 to every refusal (portal/files.py), anonymous included.
    assert client.get(f"/api/v1/invoices/{billing_world['direct_invoice'].pk}/pdf/").status_code == 404


def test_the_invoices_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/invoices/" in schema["paths"]
    pdf = schema["paths"]["/api/v1/invoices/{invoice_id}/pdf/"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    assert "/api/v1/organizations/{org}/payment-methods/" in schema["paths"]


def test_invoice_lists_run_constant_queries(settings, tmp_path, client):
    reseller = partner()
    owner = factories.member(reseller, OrgRole.OWNER)
    client.force_login(owner)

    def measure() -> tuple[int, int]:
        counts = []
        for url in ("/api/v1/invoices/", reverse("invoice-list", kwargs={"org": reseller.public_id})):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        return tuple(counts)

    from datetime import date

    def month(n):
        return (date(2025 + (n // 12), n % 12 + 1, 1), date(2025 + (n // 12), n % 12 + 1, 28))

    for n in range(2):
        issue(line(reseller, customer(name=f"K{n}"), period=month(n)), period=month(n))
    few = measure()
    for n in range(2, 20):
        issue(line(reseller, customer(name=f"K{n}"), period=month(n)), period=month(n))
    assert measure() == few


USERS = (
    "partner_owner",
    "partner_member",
    "linked_owner",
    "linked_admin",
    "linked_guest",
    "direct_owner",
    "direct_member",
    "caretaker",
)


@pytest.mark.parametrize("read", sorted(INVOICE_READS))
def test_the_compiled_cross_org_read_finds_what_the_restriction_finds(billing_world, read, settings):
    """`invoice_for_user` (compiled once per process) against the restriction (built per request)
    for every user of the world and every invoice, within and after the retention period."""
    invoices = (billing_world["direct_invoice"], billing_world["partner_invoice"])
    for years in (10, 0):  # 0: every invoice is past the retention period
        settings.INVOICE_RETENTION_YEARS = years
        seen = set()
        for name in USERS:
            user = billing_world[name]
            for invoice in invoices:
                expected = restrict(Invoice.objects.all(), Scope(user=user)).filter(pk=invoice.pk).first()
                found = invoice_for_user(user=user, pk=invoice.pk, read=read)
                assert (found and found.pk) == (expected and expected.pk), (years, name, invoice.number)
                if found:
                    seen.add((name, invoice.recipient_id))
                    assert found.recipient_id == expected.recipient_id
        # the comparison means something: both answers occur
        partner, direct = billing_world["partner"].pk, billing_world["direct"].pk
        assert ("partner_owner", partner) in seen and ("direct_owner", direct) in seen
        assert ("partner_member", partner) not in seen and ("linked_owner", partner) not in seen


def test_the_cross_org_invoice_api_compiles_its_read_once(billing_world, client):
    """The cross-org detail, lines and sections: the same answers as in the org, one query for the
    invoice however often it is asked, and 404 for a foreign invoice or an unknown key."""
    invoice = billing_world["partner_invoice"]
    client.force_login(billing_world["partner_owner"])
    for name in ("invoice-api-detail", "invoice-api-lines", "invoice-api-sections"):
        url = reverse(name, kwargs={"invoice_id": invoice.pk})
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.content[:200])
        reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("EXECUTE portal_")]
        assert len(reads) == 1, (name, [q["sql"][:80] for q in queries.captured_queries])
    assert (
        client.get(reverse("invoice-api-detail", kwargs={"invoice_id": invoice.pk})).json()["number"] == invoice.number
    )
    client.force_login(billing_world["linked_owner"])
    for invoice_id in (invoice.pk, invoice.pk + 1000):
        response = client.get(reverse("invoice-api-detail", kwargs={"invoice_id": invoice_id}))
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Not found."
