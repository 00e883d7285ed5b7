"""Partner booking in a real browser, in English and German (BIL-3, BIL-4, ORG-6).

The partner opens the customer's subscriptions, chooses a product and a quantity, reviews the
price and the invoice recipient, confirms "order with obligation to pay" and lands on the new
subscription; the customer's own Owner finds no such page (404).
"""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "book": "Book a subscription",
        "review": "Continue to review",
        "order": "Order with obligation to pay",
        "confirm": "I order with obligation to pay.",
        "missing": "Please confirm that you order with obligation to pay.",
        "recipient": "Invoice recipient",
        "done": "Booked with obligation to pay.",
    },
    "de": {
        "book": "Abonnement buchen",
        "review": "Weiter zur Prüfung",
        "order": "Zahlungspflichtig bestellen",
        "confirm": "Ich bestelle zahlungspflichtig.",
        "missing": "Bitte bestätigen Sie, dass Sie zahlungspflichtig bestellen.",
        "recipient": "Rechnungsempfänger",
        "done": "Zahlungspflichtig gebucht.",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_partner_books_for_a_customer_after_confirming_the_obligation_to_pay(live_server, demo, browser, language):
    from billing.models import Subscription

    labels = LABELS[language]
    customer = demo["orgs"]["customer"]
    demo["users"]["partner"].__class__.objects.filter(email="partner@demo.example").update(language=language)

    page = browser.new_context(locale=language).new_page()
    login(page, live_server, "partner@demo.example")
    page.goto(f"{live_server.url}/o/{customer.public_id}/billing/subscriptions/")
    page.get_by_role("link", name=labels["book"]).click()
    page.select_option(
        "select[name=product]", label="CRM module (MOD-CRM)" if language == "en" else "CRM-Modul (MOD-CRM)"
    )
    page.fill("input[name=quantity]", "2")
    page.get_by_role("button", name=labels["review"]).click()
    expect(page.locator("main")).to_contain_text(labels["recipient"])
    expect(page.locator("main")).to_contain_text("Demo Partner GmbH")

    # Without the tick nothing is booked.
    page.get_by_role("button", name=labels["order"]).click()
    expect(page.locator("main")).to_contain_text(labels["missing"])
    assert not Subscription.objects.filter(
        organization=customer, product__sku="MOD-CRM", source="partner_order"
    ).exists()

    page.get_by_label(labels["confirm"]).check()
    page.get_by_role("button", name=labels["order"]).click()
    expect(page.locator(".messages")).to_contain_text(labels["done"])
    subscription = Subscription.objects.get(organization=customer, product__sku="MOD-CRM", source="partner_order")
    assert (subscription.quantity, subscription.payer.name) == (2, "Demo Partner GmbH")
    detail_url = page.url
    page.context.close()

    customer_page = browser.new_context(locale=language).new_page()
    login(customer_page, live_server, "customer@demo.example")
    response = customer_page.goto(detail_url)
    assert response.status == 404
    customer_page.context.close()
