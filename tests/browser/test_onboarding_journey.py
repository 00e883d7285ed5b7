"""Onboarding method 1 in a real browser, in English and German, at 1366 px and 390 px (ORG-2,
ORG-4, ORG-5, issue 16): "partner onboards a customer, and the contact accepts and invites a Guest".

The partner finds its customer table, creates a customer org with a contact person, is warned when
it starts creating the same customer again, finds the new customer in the table by the contact's
email (invitation pending); the contact follows the link in the invitation email, chooses a
password, lands in the new org as its Owner and invites a Guest; the partner's table then shows the
contact's invitation as accepted, and the partner reaches the customer through the switcher.
Every page visited passes `PageChecks` (no sideways scroll, screenshot, no serious/critical axe
finding).
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from organizations.models import CustomerRelation, User

from .checks import WIDTHS, PageChecks
from .conftest import login, switch_to

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "customers": "{count} customers",
        "one_customer": "1 customer",
        "duplicate": "This customer may exist already",
        "same_name": "same name",
        "pending": "Pending",
        "accepted": "Accepted",
        "accept": "Create account and accept",
        "guest": "Guest",
        "invitation_sent": "The invitation to {email} is on its way.",
        "notice": "Demo Partner GmbH",
        "contact_column": "Contact person",
    },
    "de": {
        "customers": "{count} Kunden",
        "one_customer": "1 Kunde",
        "duplicate": "Diesen Kunden gibt es vielleicht schon",
        "same_name": "gleicher Name",
        "pending": "Offen",
        "accepted": "Angenommen",
        "accept": "Konto anlegen und annehmen",
        "guest": "Gast",
        "invitation_sent": "Die Einladung an {email} ist unterwegs.",
        "notice": "Demo Partner GmbH",
        "contact_column": "Ansprechperson",
    },
}


def _submit(page):
    """The page's own form (not the header's language or logout forms)."""
    page.locator("main form[method=post] button[type=submit]").last.click()


def _fill_customer(page, company, contact_email, language):
    page.fill("input[name=name]", company)
    page.fill("input[name=street]", "Hauptstraße 1")
    page.fill("input[name=postcode]", "10115")
    page.fill("input[name=city]", "Berlin")
    page.select_option("select[name=country]", "DE")
    page.fill("input[name=contact_first_name]", "Karla")
    page.fill("input[name=contact_last_name]", "Kontakt")
    page.fill("input[name=contact_email]", contact_email)
    page.select_option("select[name=contact_language]", language)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", ["en", "de"])
def test_issue16_partner_onboards_a_customer_and_the_contact_invites_a_guest(
    live_server, demo, browser, language, width
):
    labels = LABELS[language]
    partner_org = demo["orgs"]["partner"]
    User.objects.filter(email="partner@demo.example").update(language=language)
    company = f"Neukunde {language.upper()} {width} GmbH"
    contact_email = f"kontakt-{language}-{width}@neukunde.example"
    guest_email = f"gast-{language}-{width}@neukunde.example"
    checks = PageChecks(f"onboarding-{language}-{width}")
    customers_url = f"{live_server.url}/o/{partner_org.public_id}/customers/"
    before = CustomerRelation.objects.filter(partner=partner_org, status="active").count()
    mail.outbox.clear()

    viewport = {"width": width, "height": 900}
    partner = browser.new_context(locale=language, viewport=viewport).new_page()
    login(partner, live_server, "partner@demo.example")

    # The customer table: its count, and the columns a partner needs.
    partner.goto(customers_url)
    expect(partner.locator("table.customer-table caption")).to_have_text(labels["customers"].format(count=before))
    expect(partner.locator("table.customer-table thead")).to_contain_text(labels["contact_column"])
    checks.visit(partner, "customers")

    # Create the customer.
    partner.goto(f"{customers_url}new/")
    checks.visit(partner, "customer-create")
    _fill_customer(partner, company, contact_email, language)
    _submit(partner)
    expect(partner.locator("main h1")).to_have_text(company)
    checks.visit(partner, "customer-detail")

    # Starting the same customer again: a warning with a link to the existing one; nothing created.
    partner.goto(f"{customers_url}new/")
    _fill_customer(partner, company.upper(), f"andere-{contact_email}", language)
    partner.fill("input[name=vat_id]", "")
    _submit(partner)
    warning = partner.locator(".duplicate-warning")
    expect(warning).to_contain_text(labels["duplicate"])
    expect(warning.locator("li")).to_have_count(1)
    expect(warning.locator("li")).to_contain_text(labels["same_name"])
    expect(warning.get_by_role("link", name=company)).to_be_visible()
    checks.visit(partner, "customer-duplicate")
    assert CustomerRelation.objects.filter(partner=partner_org, status="active").count() == before + 1

    # The table finds it by the contact's email; the invitation is pending.
    partner.goto(customers_url)
    partner.fill("#id_q", contact_email)
    partner.locator("form.filter-bar button[type=submit]").click()
    expect(partner.locator("table.customer-table caption")).to_have_text(labels["one_customer"])
    row = partner.locator("table.customer-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(company)
    expect(row.locator('td[data-column="contact_email"]')).to_have_text(contact_email)
    expect(row.locator('td[data-column="invitation_status"]')).to_have_text(labels["pending"])
    checks.visit(partner, "customers-filtered")

    # The invitation went out (through the outbox) in the contact's language.
    invitations = [message for message in mail.outbox if contact_email in message.to]
    assert len(invitations) == 1
    link = re.search(r"https?://\S+/invitations/[^/\s]+/", invitations[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    # The contact accepts and lands in the new org as its Owner.
    contact = browser.new_context(locale=language, viewport=viewport).new_page()
    contact.goto(f"{live_server.url}/{path}")
    expect(contact.locator("input[name=first_name]")).to_have_value("Karla")
    checks.visit(contact, "invitation-accept")
    contact.fill("input[name=password1]", "a-Long-and-Good-passphrase-2026")
    contact.fill("input[name=password2]", "a-Long-and-Good-passphrase-2026")
    contact.get_by_role("button", name=labels["accept"]).click()
    expect(contact.locator("main h1")).to_have_text(company)
    customer_url = contact.url.rstrip("/")
    checks.visit(contact, "customer-dashboard")

    # The contact invites a Guest.
    contact.goto(f"{customer_url}/members/invite/")
    checks.visit(contact, "invite-guest")
    contact.fill("input[name=email]", guest_email)
    contact.select_option("select[name=role]", "guest")
    _submit(contact)
    expect(contact.locator(".messages")).to_contain_text(labels["invitation_sent"].format(email=guest_email))
    guest_row = contact.locator("main table tbody tr", has_text=guest_email)
    expect(guest_row).to_have_count(1)
    expect(guest_row).to_contain_text(labels["guest"])
    expect(guest_row).to_contain_text(labels["pending"])
    checks.visit(contact, "invitations")
    assert any(guest_email in message.to for message in mail.outbox)

    # Back at the partner: the contact's invitation is accepted; the switcher reaches the customer.
    partner.goto(f"{customers_url}?q={contact_email}")
    expect(partner.locator('table.customer-table td[data-column="invitation_status"]')).to_have_text(labels["accepted"])
    expect(partner.locator("table.customer-table caption")).to_have_text(labels["one_customer"])
    switch_to(partner, company[:9], company)
    expect(partner.locator("main h1")).to_have_text(company)
    expect(partner.locator(".notice-partner")).to_contain_text(labels["notice"])
    partner.context.close()
    contact.context.close()
    checks.assert_clean()
