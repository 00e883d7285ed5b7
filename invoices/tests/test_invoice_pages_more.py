"""Invoice pages: German amounts, the settings link, constant queries on the detail page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.roles import OrgRole
from tests import factories

from .factories import customer, issue, line, partner

pytestmark = pytest.mark.django_db


def test_the_invoice_page_in_german_shows_german_amounts(client):
    recipient = customer(name="Direkt GmbH")
    owner = factories.member(recipient, OrgRole.OWNER, language="de")
    [invoice] = issue(line(recipient, quantity="1", unit_price="1234.50"))
    client.force_login(owner)
    html = client.get(
        reverse("invoice-detail", kwargs={"org": recipient.public_id, "invoice_id": invoice.pk})
    ).content.decode()
    assert "Rechnung" in html and "1.234,50" in html and "1.469,06" in html  # net and gross (19 %)


def test_the_detail_page_runs_constant_queries_however_many_customer_sections(client):
    reseller = partner()
    owner = factories.member(reseller, OrgRole.OWNER)
    client.force_login(owner)

    def queries_for(customers: int, month: int) -> int:
        from datetime import date

        period = (date(2026, month, 1), date(2026, month, 28))
        lines = [line(reseller, customer(name=f"K{month}-{n}"), period=period) for n in range(customers)]
        [invoice] = issue(*lines, period=period)
        url = reverse("invoice-detail", kwargs={"org": reseller.public_id, "invoice_id": invoice.pk})
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    assert queries_for(2, 1) == queries_for(20, 2)


def test_partners_find_the_customers_invoices_from_that_orgs_settings(client):
    reseller, linked = partner(), customer(name="Kunde AG")
    factories.link(reseller, linked)
    client.force_login(factories.member(reseller, OrgRole.OWNER))
    settings_page = client.get(reverse("organization-profile", kwargs={"org": linked.public_id})).content.decode()
    assert reverse("invoice-list", kwargs={"org": linked.public_id}) in settings_page
    assert reverse("payment-method-list", kwargs={"org": linked.public_id}) in settings_page
    # The customer's own Owner reaches the settings: its own invoices (BIL-8: those addressed to the
    # org itself), but no payment methods (ORG-6).
    client.force_login(factories.member(linked, OrgRole.OWNER))
    own_page = client.get(reverse("organization-profile", kwargs={"org": linked.public_id})).content.decode()
    assert "/settings/invoices/" in own_page and "/settings/payment-methods/" not in own_page


@pytest.mark.parametrize("language", ["en", "de"])
def test_issue16_invoice_detail_shows_the_full_address_and_one_money_format(client, language):
    recipient = customer(name="Direkt GmbH")
    owner = factories.member(recipient, OrgRole.OWNER, language=language)
    [invoice] = issue(line(recipient, quantity="1", unit_price="1234.50"))
    client.force_login(owner)
    for name in ("invoice-detail", "invoice-list"):
        kwargs = {"org": recipient.public_id}
        if name == "invoice-detail":
            kwargs["invoice_id"] = invoice.pk
        html = client.get(reverse(name, kwargs=kwargs)).content.decode()
        main = html.split("<main", 1)[1]
        assert " EUR" not in main  # "€" only, in the reader's format (|money)
        assert ("1.469,06\u00a0€" if language == "de" else "€1,469.06") in main
    detail = client.get(
        reverse("invoice-detail", kwargs={"org": recipient.public_id, "invoice_id": invoice.pk})
    ).content.decode()
    assert "Hauptstraße 1" in detail and invoice.recipient_postcode in detail
