"""Issue 16, "support finds an org and its invoices": support staff (support@demo.example) log
into /admin/, find an org by its VAT ID and by a member's email, open its 360° page, see its
invoices there and find the reseller's invoice by the customer's name. In English and German (the
admin follows the user's language), at 1366 px and 390 px, with `PageChecks` on every page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .checks import WIDTHS, PageChecks

pytestmark = pytest.mark.browser

TEXTS = {
    "en": {
        "login": "Log in",
        "welcome": "Welcome,",
        "organizations": "Organizations",
        "search": "Search",
        "overview": "360° view",
        "title": "360° view of Demo Kunde AG",
        "reseller": "Reseller",
        "invoices": "Invoices",
        "status_open": "Open",
        "all_invoices": "Open in the list",
    },
    "de": {
        "login": "Anmelden",
        "welcome": "Willkommen,",
        "organizations": "Organisationen",
        "search": "Suchen",
        "overview": "360°-Ansicht",
        "title": "360°-Ansicht von Demo Kunde AG",
        "reseller": "Reseller",
        "invoices": "Rechnungen",
        "status_open": "Offen",
        "all_invoices": "In der Liste öffnen",
    },
}


def _search(page, term: str, label: str) -> None:
    page.locator("#searchbar").fill(term)
    page.get_by_role("button", name=label, exact=True).click()


@pytest.mark.parametrize("language", ["en", "de"])
def test_issue16_support_finds_an_org_and_its_invoices(live_server, demo, browser, language):
    texts = TEXTS[language]
    users, orgs = demo["users"], demo["orgs"]
    users["support"].__class__.objects.filter(pk=users["support"].pk).update(language=language)
    partner_invoice = demo["invoices"][orgs["partner"].pk]
    checks = PageChecks(f"support-{language}")

    for width in WIDTHS:
        context = browser.new_context(locale=language, viewport={"width": width, "height": 900})
        page = context.new_page()

        page.goto(f"{live_server.url}/admin/")
        expect(page).to_have_url(re.compile(r"/admin/login/"))
        checks.visit(page, "login")
        page.fill("input[name=username]", "support@demo.example")
        page.fill("input[name=password]", "demo-portal-2026")
        page.get_by_role("button", name=texts["login"]).click()
        expect(page.locator("#user-tools")).to_contain_text(texts["welcome"])
        expect(page.locator("#user-tools")).to_contain_text("Sam")
        checks.visit(page, "index")

        # --- find the org by its VAT ID, then by a member's email --------------------------------------
        page.get_by_role("link", name=texts["organizations"], exact=True).first.click()
        _search(page, "DE811907980", texts["search"])
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Muster Handel GmbH")
        expect(rows.first).to_contain_text("DE811907980")
        checks.visit(page, "orgs-by-vat-id")

        _search(page, "customer@demo.example", texts["search"])
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Demo Kunde AG")
        expect(rows.first).to_contain_text(orgs["customer"].public_id)
        checks.visit(page, "orgs-by-member-email")

        # --- its 360° page: the reseller and the invoices that bill it ----------------------------------
        rows.first.get_by_role("link", name=texts["overview"]).click()
        expect(page.locator("#content h1")).to_have_text(texts["title"])
        facts = page.locator(".overview-facts")
        expect(facts).to_contain_text(orgs["customer"].public_id)
        expect(facts).to_contain_text("Demo Partner GmbH")
        invoices = page.locator("#invoices")
        expect(invoices.locator("h2")).to_contain_text(texts["invoices"])
        invoice_row = invoices.locator("tbody tr", has_text=partner_invoice.number)
        expect(invoice_row).to_contain_text("Demo Partner GmbH")
        expect(invoice_row).to_contain_text(texts["status_open"])
        expect(page.locator("#members")).to_contain_text("customer@demo.example")
        checks.visit(page, "overview")

        # --- invoices by the customer's name: the reseller's invoice, once ------------------------------
        invoices.get_by_role("link", name=texts["all_invoices"]).click()
        expect(page.locator("#result_list")).to_contain_text(partner_invoice.number)
        _search(page, "Demo Kunde AG", texts["search"])
        result = page.locator("#result_list tbody tr")
        expect(result).to_have_count(1)
        expect(result.first).to_contain_text(partner_invoice.number)
        expect(result.first).to_contain_text("Demo Partner GmbH")
        checks.visit(page, "invoices-by-customer")
        context.close()

    checks.assert_clean()
