"""Partner booking in a real browser, in English and German, at 1366 and 390 px (BIL-3, BIL-4,
ORG-6, issue 16).

The partner opens the customer's subscriptions (licences counted apart from storage and
services, each add-on under its own parent), books the CRM module – step 1 shows list and partner
prices per unit and month, the review the list price, the partner discount and the total –,
confirms "order with obligation to pay", then books the storage add-on to it: the picker offers
only the CRM module's add-ons, and the add-on is listed under the CRM module. Every page passes
`PageChecks` (no sideways scroll, screenshot, axe serious/critical). The customer's own Owner
finds no such page (404).
"""

import re

import pytest
from playwright.sync_api import expect

from .checks import WIDTHS, PageChecks
from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "book": "Book a subscription",
        "book_add_on": "Book an add-on",
        "review": "Continue to review",
        "order": "Order with obligation to pay",
        "confirm": "I order with obligation to pay.",
        "missing": "Please confirm that you order with obligation to pay.",
        "recipient": "Invoice recipient",
        "done": "Booked with obligation to pay.",
        "crm": "CRM module",
        "shop": "Shop module",
        "storage": "Extra storage 10 GB",
        "licences": "{} licences in force now.",
        "also": "Also in force: {} GB storage, 2 services.",
        "add_on_to": "Add-on to {}",
        "per_licence": "per licence and month",
        "per_10_gb": "per 10 GB and month",
        "partner_price": "Your partner price",
        "list_price": "List price",
        "discount": "25 % discount",
        "quantity_crm": "2 licences",
        "quantity_storage": "50 GB storage",
        "money": lambda text: "€" + text,
    },
    "de": {
        "book": "Abonnement buchen",
        "book_add_on": "Zusatzoption buchen",
        "review": "Weiter zur Prüfung",
        "order": "Zahlungspflichtig bestellen",
        "confirm": "Ich bestelle zahlungspflichtig.",
        "missing": "Bitte bestätigen Sie, dass Sie zahlungspflichtig bestellen.",
        "recipient": "Rechnungsempfänger",
        "done": "Zahlungspflichtig gebucht.",
        "crm": "CRM-Modul",
        "shop": "Shop-Modul",
        "storage": "Zusatzspeicher 10 GB",
        "licences": "{} Lizenzen sind jetzt gültig.",
        "also": "Außerdem gültig: {} GB Speicher, 2 Dienstleistungen.",
        "add_on_to": "Zusatzoption zu {}",
        "per_licence": "je Lizenz und Monat",
        "per_10_gb": "je 10 GB und Monat",
        "partner_price": "Ihr Partnerpreis",
        "list_price": "Listenpreis",
        "discount": "25 % Rabatt",
        "quantity_crm": "2 Lizenzen",
        "quantity_storage": "50 GB Speicher",
        "money": lambda text: text.replace(".", ",") + "\u00a0€",
    },
}


def _licences_in_force_now(customer) -> int:
    """Counted here without the app's selector: modules and courses, never storage or services."""
    from billing.models import Subscription

    return sum(
        subscription.quantity
        for subscription in Subscription.objects.in_force().filter(organization=customer).select_related("product")
        if subscription.product.kind != "service" and subscription.product.sku != "ADD-STORAGE"
    )


def _row_order(page) -> list[str]:
    """The product names of the subscription table, top to bottom."""
    return [name.strip() for name in page.locator("table.subscriptions tbody tr td:first-child a").all_inner_texts()]


def _options(page) -> list[str]:
    return [text.strip() for text in page.locator("select[name=product] option").all_inner_texts()]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", ["en", "de"])
def test_partner_books_a_subscription_with_an_add_on(live_server, demo, browser, language, width):
    from billing.models import Subscription

    labels, money = LABELS[language], LABELS[language]["money"]
    customer = demo["orgs"]["customer"]
    demo["users"]["partner"].__class__.objects.filter(email="partner@demo.example").update(language=language)
    checks = PageChecks(f"subscription-{language}-{width}")
    licences_before = _licences_in_force_now(customer)

    page = browser.new_context(locale=language, viewport={"width": width, "height": 900}).new_page()
    login(page, live_server, "partner@demo.example")
    page.goto(f"{live_server.url}/o/{customer.public_id}/billing/subscriptions/")
    main = page.locator("main")
    # Licences only; the demo's storage add-on (2 × 10 GB) and two services in their own units.
    expect(main).to_contain_text(labels["licences"].format(licences_before))
    expect(main).to_contain_text(labels["also"].format(20))
    rows = _row_order(page)
    assert rows[rows.index(labels["shop"]) + 1] == labels["storage"]  # the add-on under its own parent
    expect(main).to_contain_text(labels["add_on_to"].format(labels["shop"]))
    checks.visit(page, "list")

    # Step 1: prices per unit and month, list and partner (Gold: 25 % off).
    page.get_by_role("link", name=labels["book"]).click()
    crm_prices = page.locator("tr[data-sku=MOD-CRM]")
    expect(crm_prices).to_contain_text(money("19.90"))
    expect(crm_prices).to_contain_text(money("14.93"))
    expect(crm_prices).to_contain_text(labels["per_licence"])
    expect(main).to_contain_text(labels["partner_price"])
    assert not any("ADD-STORAGE" in option for option in _options(page))  # add-ons are booked to their parent
    checks.visit(page, "book")
    page.select_option("select[name=product]", label=f"{labels['crm']} (MOD-CRM)")
    page.fill("input[name=quantity]", "2")
    page.get_by_role("button", name=labels["review"]).click()

    # Review: list price, partner conditions, the total (2 × 14.93 = 29.86; 2 × 19.90 = 39.80).
    review = page.locator("dl.review")
    expect(review).to_contain_text(labels["list_price"])
    expect(review).to_contain_text(money("19.90"))
    expect(review).to_contain_text(labels["discount"])
    expect(review).to_contain_text("−" + money("9.94"))
    expect(review).to_contain_text(money("29.86"))
    expect(review).to_contain_text(labels["quantity_crm"])
    expect(main).to_contain_text(labels["recipient"])
    expect(main).to_contain_text("Demo Partner GmbH")
    checks.visit(page, "review")

    # Without the tick nothing is booked.
    page.get_by_role("button", name=labels["order"]).click()
    expect(main).to_contain_text(labels["missing"])
    assert not Subscription.objects.filter(
        organization=customer, product__sku="MOD-CRM", source="partner_order"
    ).exists()
    page.get_by_label(labels["confirm"]).check()
    page.get_by_role("button", name=labels["order"]).click()
    expect(page.locator(".messages")).to_contain_text(labels["done"])
    crm = Subscription.objects.get(organization=customer, product__sku="MOD-CRM", source="partner_order")
    assert (crm.quantity, crm.payer.name) == (2, "Demo Partner GmbH")
    expect(main).to_contain_text(labels["quantity_crm"])
    checks.visit(page, "detail")
    detail_url = page.url

    # The add-on: only the CRM module's add-ons (storage; not the Shop's payment connector).
    page.get_by_role("link", name=labels["book_add_on"]).click()
    # Wait for the booking form: reading the options at once may still read the detail page.
    expect(page.locator("select[name=product] option")).to_have_count(1)
    assert _options(page) == [f"{labels['storage']} (ADD-STORAGE)"]
    storage_prices = page.locator("tr[data-sku=ADD-STORAGE]")
    expect(storage_prices).to_contain_text(money("4.90"))
    expect(storage_prices).to_contain_text(money("3.68"))
    expect(storage_prices).to_contain_text(labels["per_10_gb"])
    checks.visit(page, "add-on-book")
    page.fill("input[name=quantity]", "5")
    page.get_by_role("button", name=labels["review"]).click()
    review = page.locator("dl.review")
    expect(review).to_contain_text(labels["quantity_storage"])
    expect(review).to_contain_text(labels["crm"])
    expect(review).to_contain_text(money("18.40"))  # 5 × 3.68
    checks.visit(page, "add-on-review")
    page.get_by_label(labels["confirm"]).check()
    page.get_by_role("button", name=labels["order"]).click()
    expect(page.locator(".messages")).to_contain_text(labels["done"])
    expect(main).to_contain_text(labels["quantity_storage"])
    expect(main).to_contain_text(labels["crm"])
    checks.visit(page, "add-on-detail")
    assert crm.add_ons.get().product.sku == "ADD-STORAGE"

    # The list: the storage add-on under the CRM module; licences grew by 2, not by 7.
    page.goto(f"{live_server.url}/o/{customer.public_id}/billing/subscriptions/")
    expect(main).to_contain_text(labels["licences"].format(licences_before + 2))
    expect(main).to_contain_text(labels["also"].format(70))
    rows = _row_order(page)
    assert rows[rows.index(labels["crm"]) + 1] == labels["storage"]
    assert rows[rows.index(labels["shop"]) + 1] == labels["storage"]
    expect(main).to_contain_text(labels["add_on_to"].format(labels["crm"]))
    checks.visit(page, "list-after")

    # The customer's invoices (last month's run, addressed to the partner): the full address,
    # amounts in the one money format – "€" in the reader's format, never "EUR" beside it.
    page.goto(f"{live_server.url}/o/{customer.public_id}/settings/invoices/")
    expect(main.locator("table")).to_contain_text("€")
    checks.visit(page, "invoices")
    page.locator("main table tbody a").first.click()
    expect(main.locator("address")).to_contain_text("Demo Partner GmbH")
    expect(main.locator("address")).to_contain_text("Partnerweg 1")
    assert " EUR" not in main.inner_text()
    checks.visit(page, "invoice")
    page.context.close()

    customer_page = browser.new_context(locale=language).new_page()
    login(customer_page, live_server, "customer@demo.example")
    response = customer_page.goto(detail_url)
    assert response.status == 404
    customer_page.context.close()
    checks.assert_clean()
    assert re.match(r".*/billing/subscriptions/\d+/$", detail_url)
