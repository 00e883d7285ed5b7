"""Issue 16 journey "partner sends an offer from a new template, and the customer accepts", in
Chromium, in English and German, at 1366 px and 390 px (OFR-2, OFR-3, OFR-6).

The partner creates a template, finds a product through the search field and adds it (saved at
once, htmx: the search results mark it as added), changes the quantity in place and sees "Saved",
sees its partner price and margin in the editor and on the send form, sends the template to Demo
Kunde AG with a message; the customer's Owner sees the red badge, opens the offer with its items,
message and prices – never the partner's – and accepts; the page then says "Accepted" and shows
the licences' inclusive end date. Every page visited passes `PageChecks` (no sideways scroll,
screenshot, axe serious/critical 0).
"""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone, translation
from playwright.sync_api import expect

from portal.templatetags.ui import money, until

from .checks import WIDTHS, PageChecks
from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "create": "Create",
        "add": "Add",
        "in_template": "In this template",
        "saved": "Saved at",
        "partner_price": "Partner price",
        "margin": "Margin",
        "send_tpl": "Send this template",
        "send": "Send offer",
        "sent": "The offer is on its way to the customer.",
        "accept": "Accept offer",
        "decline": "Decline offer…",
        "accepted": "Accepted",
        "waiting": "Awaiting decision",
        "product": "Shop module",
        "until": "until",
    },
    "de": {
        "create": "Anlegen",
        "add": "Hinzufügen",
        "in_template": "In dieser Vorlage",
        "saved": "Gespeichert um",
        "partner_price": "Partnerpreis",
        "margin": "Marge",
        "send_tpl": "Diese Vorlage senden",
        "send": "Angebot senden",
        "sent": "Das Angebot ist auf dem Weg zum Kunden.",
        "accept": "Angebot annehmen",
        "decline": "Angebot ablehnen …",
        "accepted": "Angenommen",
        "waiting": "Wartet auf Entscheidung",
        "product": "Shop-Modul",
        "until": "bis",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_partner_sends_an_offer_from_a_new_template_and_the_customer_accepts(live_server, demo, browser, language):
    from decimal import Decimal

    from offers.models import Offer, OfferTemplateItem

    labels = LABELS[language]
    partner, customer = demo["orgs"]["partner"], demo["orgs"]["customer"]
    users = demo["users"]
    users["partner"].__class__.objects.filter(email__in=["partner@demo.example", "customer@demo.example"]).update(
        language=language
    )
    # MOD-SHOP lists at 29.00; Demo Partner GmbH is Gold (25 %): it pays 21.75 and keeps 7.25
    with translation.override(language):
        partner_price, margin = money(Decimal("21.75")), money(Decimal("7.25"))
        selling_total = money(Decimal("29.00") * 7 * 12)
        ends_on = until(timezone.localdate() + relativedelta(months=12) - timedelta(days=1))
    checks = PageChecks(f"offer-{language}")

    for width in WIDTHS:
        name = f"Browser-Paket {language} {width}"
        viewport = {"width": width, "height": 900}
        page = browser.new_context(locale=language, viewport=viewport).new_page()
        login(page, live_server, "partner@demo.example")
        page.goto(f"{live_server.url}/o/{partner.public_id}/offer-templates/")
        checks.visit(page, "templates")
        page.fill("input[name=name]", name)
        page.get_by_role("button", name=labels["create"], exact=True).click()
        page.fill("#product-search", "MOD-SHOP")
        expect(page.locator("#product-results li")).to_have_count(1)  # the search narrowed the catalog
        page.locator("#product-results li", has_text="MOD-SHOP").get_by_role("button", name=labels["add"]).click()
        expect(page.locator("#template-items")).to_contain_text(labels["product"])
        # the results refresh: the product is marked and cannot be added twice
        expect(page.locator("#product-results li", has_text="MOD-SHOP")).to_contain_text(labels["in_template"])
        expect(page.locator("#product-results").get_by_role("button", name=labels["add"])).to_have_count(0)
        item = OfferTemplateItem.objects.get(template__name=name)  # saved at once
        page.locator(f"#qty-{item.pk}").fill("7")
        page.locator(f"#qty-{item.pk}").dispatch_event("change")
        expect(page.locator("#save-status")).to_contain_text(labels["saved"])
        expect(page.locator(f"#qty-{item.pk}")).to_have_value("7")
        items = page.locator("#template-items")
        expect(items.get_by_role("columnheader", name=labels["partner_price"])).to_be_visible()
        expect(items.get_by_role("columnheader", name=labels["margin"])).to_be_visible()
        expect(items.locator("[data-testid=partner-price]")).to_have_text(partner_price)
        expect(items.locator("[data-testid=margin]")).to_contain_text(margin)
        expect(items.locator("[data-testid=selling-total]")).to_have_text(selling_total)
        checks.visit(page, "template-editor")

        page.get_by_role("link", name=labels["send_tpl"]).click()
        page.get_by_role("row", name=customer.name).get_by_role("link").click()
        preview = page.locator("#send-preview")
        expect(preview.locator("[data-testid=partner-price]")).to_have_text(partner_price)
        expect(preview.locator("[data-testid=margin]")).to_have_text(margin)
        checks.visit(page, "send")
        page.fill("textarea[name=message]", "Browser says hello")
        page.get_by_role("button", name=labels["send"], exact=True).click()
        expect(page.locator(".messages")).to_contain_text(labels["sent"])
        expect(page.locator("#offer-status")).to_contain_text(labels["waiting"])
        expect(page.locator("main [data-testid=partner-price]")).to_have_text(partner_price)
        checks.visit(page, "partner-offer")
        offer = Offer.objects.get(title=name)
        assert offer.items.get().quantity == 7
        page.context.close()

        customer_page = browser.new_context(locale=language, viewport=viewport).new_page()
        login(customer_page, live_server, "customer@demo.example")
        customer_page.goto(f"{live_server.url}/o/{customer.public_id}/offers/")
        expect(customer_page.get_by_role("row", name=name)).to_contain_text(labels["waiting"])
        checks.visit(customer_page, "customer-offers")
        customer_page.get_by_role("link", name=name).click()
        main = customer_page.locator("main")
        expect(main).to_contain_text("Browser says hello")
        expect(main).to_contain_text("MOD-SHOP")
        expect(main.locator("[data-testid=total]")).to_have_text(selling_total)
        for secret in (partner_price, margin, labels["partner_price"], labels["margin"]):
            expect(main).not_to_contain_text(secret)  # customers never see the partner's conditions
        # Accept first; Decline (with its optional reason) in its own section, closed
        expect(customer_page.get_by_role("button", name=labels["accept"], exact=True)).to_be_visible()
        expect(customer_page.locator("textarea[name=reason]")).to_be_hidden()
        checks.visit(customer_page, "customer-offer")
        customer_page.once("dialog", lambda dialog: dialog.accept())
        customer_page.get_by_role("button", name=labels["accept"], exact=True).click()
        expect(main.locator("[data-testid=offer-status]")).to_have_text(labels["accepted"])
        expect(main.locator("[data-testid=ends-on]")).to_have_text(f"{labels['until']} {ends_on}")
        expect(main).not_to_contain_text(partner_price)
        checks.visit(customer_page, "customer-offer-accepted")
        offer.refresh_from_db()
        assert offer.status == "accepted"
        customer_page.context.close()

    checks.assert_clean()
