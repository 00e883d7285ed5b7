"""Onboarding method 1 in a real browser, in English and German (ORG-2, ORG-4, ORG-5).

The partner creates a customer org with a contact person; the contact follows the link in the
invitation email, chooses a password and lands in the new org as its Owner; the partner then
switches into the new customer from the organization switcher.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {"create": "Create the customer", "accept": "Create account and accept", "notice": "Demo Partner GmbH"},
    "de": {"create": "Kunde anlegen", "accept": "Konto anlegen und annehmen", "notice": "Demo Partner GmbH"},
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_partner_creates_a_customer_whose_contact_joins_as_owner(live_server, demo, browser, language):
    labels = LABELS[language]
    partner_org = demo["orgs"]["partner"]
    demo["users"]["partner"].__class__.objects.filter(email="partner@demo.example").update(language=language)
    company = f"Neukunde {language.upper()} GmbH"
    contact_email = f"kontakt-{language}@neukunde.example"
    mail.outbox.clear()

    partner = browser.new_context(locale=language).new_page()
    login(partner, live_server, "partner@demo.example")
    partner.goto(f"{live_server.url}/o/{partner_org.public_id}/customers/new/")
    partner.fill("input[name=name]", company)
    partner.fill("input[name=street]", "Hauptstraße 1")
    partner.fill("input[name=postcode]", "10115")
    partner.fill("input[name=city]", "Berlin")
    partner.select_option("select[name=country]", "DE")
    partner.fill("input[name=contact_first_name]", "Karla")
    partner.fill("input[name=contact_last_name]", "Kontakt")
    partner.fill("input[name=contact_email]", contact_email)
    partner.select_option("select[name=contact_language]", language)
    partner.get_by_role("button", name=labels["create"]).click()
    expect(partner.locator("main h1")).to_have_text(company)

    # The invitation went out (through the outbox) in the contact's language.
    invitations = [message for message in mail.outbox if contact_email in message.to]
    assert len(invitations) == 1
    link = re.search(r"https?://\S+/invitations/[^/\s]+/", invitations[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    contact = browser.new_context(locale=language).new_page()
    contact.goto(f"{live_server.url}/{path}")
    expect(contact.locator("input[name=first_name]")).to_have_value("Karla")
    contact.fill("input[name=password1]", "a-Long-and-Good-passphrase-2026")
    contact.fill("input[name=password2]", "a-Long-and-Good-passphrase-2026")
    contact.get_by_role("button", name=labels["accept"]).click()
    expect(contact.locator("main h1")).to_have_text(company)

    # The partner reaches the new customer through the switcher, with the partner notice shown.
    partner.fill("#org-switcher-input", company[:9])
    partner.locator("#org-switcher-results a", has_text=company).click()
    expect(partner.locator("main h1")).to_have_text(company)
    expect(partner.locator(".notice-partner")).to_contain_text(labels["notice"])
    partner.context.close()
    contact.context.close()
