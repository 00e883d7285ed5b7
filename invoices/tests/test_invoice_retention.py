"""Issue 15, item "invoices already issued remain readable by the org they were addressed to"
(BIL-8): Direkt GmbH connects to Demo Partner after its invoice 2026-000002 was issued and still
reads it (page, API, PDF) for the retention period, while it never sees what the partner pays."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from invoices.services.issuing import invoice_pdf_ensure
from organizations.roles import OrgRole
from organizations.services.relations import relation_connect
from tests import factories

from .factories import customer, issue, line, partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(media_roots):
    reseller = partner(name="Demo Partner GmbH")
    direct = customer(name="Direkt GmbH")
    [old_invoice] = issue(line(direct, quantity="1", unit_price="5.00"))
    invoice_pdf_ensure(invoice=old_invoice)  # the worker's step: pages never render PDFs (issue 13)
    relation_connect(partner=reseller, customer=direct, actor=factories.UserFactory())
    # After connecting, the partner pays (a later period): that invoice is the partner's business.
    [partner_invoice] = issue(
        line(reseller, direct, quantity="3", unit_price="7.00"), period=(date(2026, 11, 1), date(2026, 11, 30))
    )
    return {
        "partner": reseller,
        "direct": direct,
        "old_invoice": old_invoice,
        "partner_invoice": partner_invoice,
        "owner": factories.member(direct, OrgRole.OWNER),
        "admin": factories.member(direct, OrgRole.ADMIN),
        "member": factories.member(direct, OrgRole.MEMBER),
    }


def _urls(org, invoice) -> list[str]:
    return [
        reverse("invoice-detail", kwargs={"org": org.public_id, "invoice_id": invoice.pk}),
        reverse("invoice-pdf", kwargs={"org": org.public_id, "invoice_id": invoice.pk}),
        f"/api/v1/organizations/{org.public_id}/invoices/{invoice.pk}/",
        f"/api/v1/organizations/{org.public_id}/invoices/{invoice.pk}/pdf/",
        f"/api/v1/invoices/{invoice.pk}/",
        f"/api/v1/invoices/{invoice.pk}/pdf/",
    ]


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_a_formerly_direct_customer_still_reads_its_old_invoices(connected, client, who):
    client.force_login(connected[who])
    direct, old = connected["direct"], connected["old_invoice"]
    for url in _urls(direct, old):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("invoice-list", kwargs={"org": direct.public_id})).content.decode()
    assert old.number in page and connected["partner_invoice"].number not in page
    assert [row["number"] for row in client.get("/api/v1/invoices/").json()["results"]] == [old.number]
    assert [
        row["number"] for row in client.get(f"/api/v1/organizations/{direct.public_id}/invoices/").json()["results"]
    ] == [old.number]


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_a_linked_customer_never_sees_what_the_partner_pays(connected, client, who):
    client.force_login(connected[who])
    for url in _urls(connected["direct"], connected["partner_invoice"]):
        assert client.get(url).status_code == 404, url
    # ORG-6 stays: the subscriptions (what the partner pays per licence) are partner-only.
    assert client.get(reverse("subscription-list", kwargs={"org": connected["direct"].public_id})).status_code == 404


def test_a_member_of_the_addressee_does_not_read_invoices(connected, client):
    client.force_login(connected["member"])
    direct, old = connected["direct"], connected["old_invoice"]
    assert (
        client.get(reverse("invoice-detail", kwargs={"org": direct.public_id, "invoice_id": old.pk})).status_code == 403
    )
    assert client.get(f"/api/v1/invoices/{old.pk}/").status_code == 404


def test_the_addressee_reads_it_for_the_retention_period_only(connected, client, settings):
    client.force_login(connected["owner"])
    direct, old = connected["direct"], connected["old_invoice"]
    settings.INVOICE_RETENTION_YEARS = 0  # the period is over: the relation decides again (ORG-6)
    for url in _urls(direct, old):
        assert client.get(url).status_code == 404, url
    settings.INVOICE_RETENTION_YEARS = 10
    assert client.get(f"/api/v1/invoices/{old.pk}/").status_code == 200


def test_the_demos_direkt_gmbh_reads_its_invoice_after_connecting_to_demo_partner(client, media_roots):
    """The issue's walk-through: Direkt GmbH connects to Demo Partner, then opens its earlier invoice."""
    from invoices.models import Invoice
    from portal.management.commands.seed_demo import seed_all

    demo = seed_all()
    direct, reseller = demo["orgs"]["direct"], demo["orgs"]["partner"]
    invoice = invoice_pdf_ensure(invoice=Invoice.objects.get(recipient=direct))
    relation_connect(partner=reseller, customer=direct, actor=demo["users"]["partner"])
    client.force_login(demo["users"]["direct"])
    for url in _urls(direct, invoice):
        assert client.get(url).status_code == 200, url
    partner_invoice = Invoice.objects.get(recipient=reseller)
    assert client.get(f"/api/v1/invoices/{partner_invoice.pk}/").status_code == 404
