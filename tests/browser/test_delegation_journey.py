"""Issue 16, the caretaker journey in a real browser: the agency requests care, the customer
approves and later revokes (DLG-1, DLG-3, DLG-4, DLG-5) – in English and German, at 1366 px and
390 px, with `PageChecks` (no sideways scroll, screenshot, axe serious/critical) on every page.

Demo Agentur (caretaker@) asks for Demo Kunde AG's "CRM Demo Kunde"; the customer's Owner
(customer@) accepts it until 30 June next year, the agency finds it among its managed projects
with that last day, administers it, is told to ask the customer for paid services, and the
customer revokes it; both sides then see it under "Ended" with its customer and its caretaker.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import formats, translation
from playwright.sync_api import expect

from .checks import WIDTHS, PageChecks
from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "caretakers": "Technical caretakers",
        "request_care": "Request care for a project",
        "release": "Release a project to a caretaker",
        "old_request": "Request a project as caretaker",
        "send": "Send request",
        "outgoing": "Outgoing requests",
        "incoming": "Incoming requests",
        "managed": "Managed projects",
        "ended": "Ended",
        "project": "Project",
        "customer": "Customer",
        "caretaker": "Caretaker",
        "until": "Until",
        "hidden": "shown once accepted",
        "pending": "Pending",
        "active": "Active",
        "revoked": "Revoked",
        "accept": "Accept",
        "revoke": "Revoke",
        "administer": "Administer",
        "ask_to_order": "Only Demo Kunde AG can order this: ask them to order it.",
    },
    "de": {
        "caretakers": "Technische Betreuer",
        "request_care": "Betreuung für ein Projekt anfragen",
        "release": "Ein Projekt an einen Betreuer freigeben",
        "old_request": "Ein Projekt als Betreuer anfragen",
        "send": "Anfrage senden",
        "outgoing": "Ausgehende Anfragen",
        "incoming": "Eingehende Anfragen",
        "managed": "Betreute Projekte",
        "ended": "Beendet",
        "project": "Projekt",
        "customer": "Kunde",
        "caretaker": "Betreuer",
        "until": "Bis",
        "hidden": "sichtbar nach der Annahme",
        "pending": "Offen",
        "active": "Aktiv",
        "revoked": "Widerrufen",
        "accept": "Annehmen",
        "revoke": "Widerrufen",
        "administer": "Verwalten",
        "ask_to_order": "Nur Demo Kunde AG kann das bestellen: Bitten Sie dort um die Bestellung.",
    },
}


def _cell(page, row, header: str):
    """The cell of `row` under the column headed `header` (columns are labelled by role)."""
    headers = [text.strip() for text in page.locator("main table thead th").all_inner_texts()]
    assert header in headers, f"no column {header!r} in {headers}"
    return row.locator("td").nth(headers.index(header))


@pytest.mark.parametrize("language", ["en", "de"])
def test_issue16_agency_requests_care_and_the_customer_approves_and_later_revokes(live_server, demo, browser, language):
    labels = LABELS[language]
    users, orgs, projects = demo["users"], demo["orgs"], demo["projects"]
    users["customer"].__class__.objects.filter(email__in=["customer@demo.example", "caretaker@demo.example"]).update(
        language=language
    )
    project, customer, agency = projects["customer_crm"], orgs["customer"], orgs["agency"]
    last_day = date(date.today().year + 1, 6, 30)
    with translation.override(language):
        shown_until = formats.date_format(last_day, "DATE_FORMAT")
    overview = f"{live_server.url}/o/{{org}}/delegations/"
    checks = PageChecks(f"delegation-{language}")

    for width in WIDTHS:
        viewport = {"width": width, "height": 900}
        agency_page = browser.new_context(locale=language, viewport=viewport).new_page()
        customer_page = browser.new_context(locale=language, viewport=viewport).new_page()
        login(agency_page, live_server, "caretaker@demo.example")
        login(customer_page, live_server, "customer@demo.example")

        # --- the agency: its primary action asks for care of a project ---------------------------
        page = agency_page
        page.goto(overview.format(org=agency.public_id))
        expect(page.locator("main h1")).to_have_text(labels["caretakers"])
        primary = page.locator("main .page-header-actions .btn-primary")
        expect(primary).to_have_text(labels["request_care"])
        checks.visit(page, "agency-overview")
        primary.click()
        expect(page.locator("main h1")).to_have_text(labels["request_care"])
        page.locator("input[name=project_number]").fill(project.number)
        checks.visit(page, "agency-request-form")
        page.get_by_role("button", name=labels["send"]).click()
        expect(page.locator("main h2#tab-heading")).to_have_text(labels["outgoing"])
        row = page.locator("main tbody tr", has_text=project.number).first
        expect(_cell(page, row, labels["customer"])).to_have_text(labels["hidden"])  # nothing revealed yet
        expect(row).to_contain_text(labels["pending"])
        expect(row).not_to_contain_text(project.name)
        checks.visit(page, "agency-outgoing")

        # --- the customer: releases are its primary action; it is not offered requests ---------
        page = customer_page
        page.goto(overview.format(org=customer.public_id) + "?tab=incoming")
        expect(page.locator("main .page-header-actions .btn-primary")).to_have_text(labels["release"])
        expect(page.get_by_role("link", name=labels["old_request"])).to_have_count(0)
        expect(page.get_by_role("link", name=labels["request_care"])).to_have_count(0)
        expect(page.locator("main h2#tab-heading")).to_have_text(labels["incoming"])
        row = page.locator("main tbody tr", has_text=project.number).first
        expect(_cell(page, row, labels["caretaker"])).to_have_text("Demo Agentur")
        checks.visit(page, "customer-incoming")
        row.get_by_role("link", name=f"{project.number} {project.name}").click()
        page.locator("input[name=ends_at]").fill(last_day.isoformat())
        checks.visit(page, "customer-decide")
        page.get_by_role("button", name=labels["accept"], exact=True).click()
        facts = page.get_by_test_id("delegation-facts")
        expect(facts).to_contain_text(labels["active"])
        expect(page.get_by_test_id("delegation-until")).to_have_text(shown_until)  # the last day, not 1 July
        checks.visit(page, "customer-active")

        # --- the agency: the managed project, its last day, administering, paid services --------
        page = agency_page
        page.goto(overview.format(org=agency.public_id) + "?tab=managed")
        expect(page.locator("main h2#tab-heading")).to_have_text(labels["managed"])
        row = page.locator("main tbody tr", has_text=project.number).first
        expect(_cell(page, row, labels["customer"])).to_have_text("Demo Kunde AG")
        expect(_cell(page, row, labels["until"])).to_have_text(shown_until)
        expect(_cell(page, row, labels["project"])).to_have_text(f"{project.number} {project.name}")
        checks.visit(page, "agency-managed")
        page.goto(f"{live_server.url}/projects/{project.number}/")
        expect(page.get_by_test_id("caretaker-note")).to_contain_text("Demo Kunde AG")
        expect(page.locator("main")).to_contain_text(shown_until)
        checks.visit(page, "agency-project")
        page.get_by_role("link", name=labels["administer"]).click()
        expect(page.get_by_test_id("caretaker-scope")).to_contain_text("Demo Kunde AG")
        checks.visit(page, "agency-administer")
        page.goto(f"{live_server.url}/projects/{project.number}/services/")
        expect(page.locator("main")).to_contain_text(labels["ask_to_order"])
        checks.visit(page, "agency-paid-services-refused")

        # --- the customer revokes; both sides see it under "Ended" ------------------------------
        page = customer_page
        page.reload()
        page.locator("main .page-header-actions").get_by_role("button", name=labels["revoke"]).click()
        dialog = page.locator("dialog#revoke-delegation")
        expect(dialog).to_be_visible()
        checks.visit(page, "customer-revoke-dialog")
        dialog.get_by_role("button", name=labels["revoke"]).click()
        expect(page.get_by_test_id("delegation-facts")).to_contain_text(labels["revoked"])
        page.goto(overview.format(org=customer.public_id) + "?tab=ended")
        expect(page.locator("main h2#tab-heading")).to_have_text(labels["ended"])
        row = page.locator("main tbody tr", has_text=project.number).first
        expect(_cell(page, row, labels["caretaker"])).to_have_text("Demo Agentur")
        expect(_cell(page, row, labels["customer"])).to_have_text("Demo Kunde AG")
        expect(row).to_contain_text(labels["revoked"])
        checks.visit(page, "customer-ended")

        page = agency_page
        page.goto(overview.format(org=agency.public_id) + "?tab=ended")
        row = page.locator("main tbody tr", has_text=project.number).first
        expect(_cell(page, row, labels["caretaker"])).to_have_text("Demo Agentur")
        expect(_cell(page, row, labels["customer"])).to_have_text("Demo Kunde AG")  # not the agency itself
        expect(row).to_contain_text(labels["revoked"])
        checks.visit(page, "agency-ended")
        page.goto(f"{live_server.url}/projects/?q={project.number}")
        expect(page.locator("main tr", has_text=project.name)).to_have_count(0)  # access ended at once

        agency_page.context.close()
        customer_page.context.close()
    checks.assert_clean()
