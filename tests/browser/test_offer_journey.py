"""Module offers in a real browser, in English and German (OFR-2, OFR-3, OFR-6).

The partner creates a template, finds a product through the search field and adds it (saved at
once, htmx), changes the quantity in place, sends the template to Demo Kunde AG with a message;
the customer's Owner sees the red badge, opens the offer with its items and message and accepts.
"""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "create": "Create",
        "add": "Add",
        "send_tpl": "Send this template",
        "send": "Send offer",
        "sent": "The offer is on its way to the customer.",
        "accept": "Accept",
        "accepted": "Accepted",
        "waiting": "Waiting for confirmation",
        "product": "Shop module",
    },
    "de": {
        "create": "Anlegen",
        "add": "Hinzufügen",
        "send_tpl": "Diese Vorlage senden",
        "send": "Angebot senden",
        "sent": "Das Angebot ist auf dem Weg zum Kunden.",
        "accept": "Annehmen",
        "accepted": "Angenommen",
        "waiting": "Wartet auf Bestätigung",
        "product": "Shop-Modul",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_partner_builds_and_sends_an_offer_the_customer_accepts(live_server, demo, browser, language):
    from offers.models import Offer, OfferTemplateItem

    labels = LABELS[language]
    partner, customer = demo["orgs"]["partner"], demo["orgs"]["customer"]
    users = demo["users"]
    users["partner"].__class__.objects.filter(email__in=["partner@demo.example", "customer@demo.example"]).update(
        language=language
    )

    page = browser.new_context(locale=language).new_page()
    login(page, live_server, "partner@demo.example")
    page.goto(f"{live_server.url}/o/{partner.public_id}/offer-templates/")
    page.fill("input[name=name]", f"Browser-Paket {language}")
    page.get_by_role("button", name=labels["create"]).click()
    page.fill("#product-search", "MOD-SHOP")
    expect(page.locator("#product-results li")).to_have_count(1)  # the search narrowed the catalog
    page.locator("#product-results li", has_text="MOD-SHOP").get_by_role("button", name=labels["add"]).click()
    expect(page.locator("#template-items")).to_contain_text(labels["product"])
    item = OfferTemplateItem.objects.get(template__name=f"Browser-Paket {language}")  # saved at once
    page.locator(f"#qty-{item.pk}").fill("7")
    page.locator(f"#qty-{item.pk}").dispatch_event("change")
    expect(page.locator(f"#qty-{item.pk}")).to_have_value("7")
    page.wait_for_function(f"() => document.querySelector('#qty-{item.pk}').value === '7'")
    page.get_by_role("link", name=labels["send_tpl"]).click()
    page.get_by_role("row", name=customer.name).get_by_role("link").click()
    page.fill("textarea[name=message]", "Browser says hello")
    page.get_by_role("button", name=labels["send"]).click()
    expect(page.locator(".messages")).to_contain_text(labels["sent"])
    expect(page.locator("#offer-status")).to_contain_text(labels["waiting"])
    offer = Offer.objects.get(title=f"Browser-Paket {language}")
    assert offer.items.get().quantity == 7
    page.context.close()

    customer_page = browser.new_context(locale=language).new_page()
    login(customer_page, live_server, "customer@demo.example")
    customer_page.goto(f"{live_server.url}/o/{customer.public_id}/offers/")
    badge = customer_page.locator(f'nav.orgnav a[href="/o/{customer.public_id}/offers/"] .badge-red')
    expect(badge).to_have_text("2")  # the demo's offer and this one
    customer_page.get_by_role("link", name=f"Browser-Paket {language}").click()
    expect(customer_page.locator("main")).to_contain_text("Browser says hello")
    expect(customer_page.locator("main")).to_contain_text("MOD-SHOP")
    customer_page.once("dialog", lambda dialog: dialog.accept())
    customer_page.get_by_role("button", name=labels["accept"], exact=True).click()
    expect(customer_page.locator("main .status")).to_contain_text(labels["accepted"])
    offer.refresh_from_db()
    assert offer.status == "accepted"
    customer_page.context.close()
