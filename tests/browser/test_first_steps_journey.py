"""Issue 16, "First steps" and "Dashboards per side" in Chromium, English and German, at 1366 px and
390 px: a new customer's Owner logs in and sees the getting-started hints instead of a red "End the
relation" button, is not offered "Remove" on herself, finds ending the relation in the settings'
reseller section behind a confirmation; the partner's dashboard shows its counts. `PageChecks` on
every page (no sideways scroll, screenshot, axe serious/critical)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from offers.models import Offer
from organizations.models import CustomerRelation, Organization
from organizations.roles import OrgRole
from tests import factories

from .checks import WIDTHS, PageChecks
from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "getting_started": "Getting started",
        "address": "Complete your organization's address",
        "invite": "Invite your colleagues",
        "offers_to_answer": "Offers to answer",
        "end_button": "End the relation to Demo Partner GmbH",
        "remove": "Remove",
        "only_owner": "The only Owner. To leave or change this role, make someone else Owner first.",
        "steps": "of 3 steps done",
        "customers": "Customers",
        "offers_awaiting": "Offers awaiting an answer",
        "trials": "Trials ending in the next 14 days",
        "cancel": "Cancel",
    },
    "de": {
        "getting_started": "Erste Schritte",
        "address": "Vervollständigen Sie die Adresse Ihrer Organisation",
        "invite": "Laden Sie Ihre Kolleginnen und Kollegen ein",
        "offers_to_answer": "Zu beantwortende Angebote",
        "end_button": "Beziehung zu Demo Partner GmbH beenden",
        "remove": "Entfernen",
        "only_owner": "Einziger Inhaber. Um auszutreten oder diese Rolle zu ändern, machen Sie zuerst jemand anderen "
        "zum Inhaber.",
        "steps": "von 3 Schritten erledigt",
        "customers": "Kunden",
        "offers_awaiting": "Angebote, die auf Antwort warten",
        "trials": "Testphasen, die in den nächsten 14 Tagen enden",
        "cancel": "Abbrechen",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_first_steps_of_a_new_customer_owner_and_the_partner_dashboard(live_server, demo, browser, language):
    labels = LABELS[language]
    partner = demo["orgs"]["partner"]
    newcomer_org = factories.OrganizationFactory(name=f"Erstkunde {language.upper()} GmbH", street="", city="")
    factories.link(partner, newcomer_org)
    owner = factories.member(newcomer_org, OrgRole.OWNER, email=f"erst-{language}@erstkunde.example", language=language)
    demo["users"]["partner"].__class__.objects.filter(email="partner@demo.example").update(language=language)
    org = newcomer_org.public_id
    checks = PageChecks(f"first-steps-{language}")

    for width in WIDTHS:
        page = browser.new_context(locale=language, viewport={"width": width, "height": 900}).new_page()

        # --- the new customer's Owner: hints, no red end-relation button ---------------------------
        login(page, live_server, owner.email, password=factories.PASSWORD)
        expect(page.locator("main h1")).to_have_text(newcomer_org.name)
        getting_started = page.locator("[data-panel=getting_started]")
        expect(getting_started.get_by_role("heading", name=labels["getting_started"])).to_be_visible()
        expect(getting_started.locator("[data-panel-count]")).to_have_text("0")
        expect(getting_started).to_contain_text(labels["steps"])
        expect(getting_started.get_by_role("link", name=labels["address"])).to_be_visible()
        expect(getting_started.get_by_role("link", name=labels["invite"])).to_be_visible()
        expect(page.locator("[data-panel=offers_to_answer] [data-panel-count]")).to_have_text("0")
        expect(page.locator("main")).not_to_contain_text(labels["end_button"])
        expect(page.locator("main .danger, main .btn-danger")).to_have_count(0)
        checks.visit(page, "customer-dashboard")

        # --- members: the sole Owner is not offered Remove on herself ------------------------------
        page.goto(f"{live_server.url}/o/{org}/members/")
        own_row = page.locator("tbody tr", has_text=owner.email)
        expect(own_row).to_contain_text(labels["only_owner"])
        expect(own_row.get_by_role("link", name=labels["remove"])).to_have_count(0)
        checks.visit(page, "customer-members")

        # --- settings: ending the relation is a secondary button behind a confirmation ------------
        page.goto(f"{live_server.url}/o/{org}/settings/")
        end_button = page.get_by_role("button", name=labels["end_button"])
        expect(end_button).to_be_visible()
        expect(end_button).to_have_class("btn btn-outline-danger")
        checks.visit(page, "customer-settings")
        end_button.click()
        dialog = page.locator("dialog#end-reseller")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name=labels["cancel"]).click()
        expect(dialog).to_be_hidden()
        assert CustomerRelation.objects.filter(customer=newcomer_org, status=CustomerRelation.Status.ACTIVE).exists(), (
            "cancelling the dialog must not end the relation"
        )
        page.context.clear_cookies()

        # --- the partner's dashboard: counts per panel --------------------------------------------
        login(page, live_server, "partner@demo.example")
        expect(page.locator("main h1")).to_have_text(partner.name)
        active_customers = (
            CustomerRelation.objects.filter(
                partner=partner, status=CustomerRelation.Status.ACTIVE, customer__status=Organization.Status.ACTIVE
            )
            .values("customer")
            .distinct()
            .count()
        )
        awaiting = Offer.objects.filter(partner=partner, status=Offer.Status.WAITING_FOR_CONFIRMATION).count()
        customers_panel = page.locator("[data-panel=customers]")
        expect(customers_panel.get_by_role("heading", name=labels["customers"])).to_be_visible()
        expect(customers_panel.locator("[data-panel-count]")).to_have_text(str(active_customers))
        expect(customers_panel.locator("[data-state=active]")).to_have_text(str(active_customers))
        offers_panel = page.locator("[data-panel=offers_awaiting]")
        expect(offers_panel.get_by_role("heading", name=labels["offers_awaiting"])).to_be_visible()
        expect(offers_panel.locator("[data-panel-count]")).to_have_text(str(awaiting))
        expect(page.locator("[data-panel=trials]").get_by_role("heading", name=labels["trials"])).to_be_visible()
        checks.visit(page, "partner-dashboard")
        page.context.close()

    checks.assert_clean()
