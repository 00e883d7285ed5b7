"""Key platform journeys in a real browser, in English and German (PLT-1)."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, switch_to

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "locale, heading, logout_label",
    [("en-US", "Log in", "Log out"), ("de-DE", "Anmelden", "Abmelden")],
)
def test_login_switch_organization_and_logout(live_server, demo, browser, locale, heading, logout_label):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("h1")).to_have_text(heading)  # the login page follows Accept-Language
    # After login the account's saved language applies: give it the browser's language.
    demo["users"]["partner"].__class__.objects.filter(email="partner@demo.example").update(language=locale[:2])
    login(page, live_server, "partner@demo.example")
    # The partner lands in its own org; the switcher finds the linked customer as you type.
    expect(page.locator("nav.orgnav")).to_contain_text("Demo Partner GmbH")
    switch_to(page, "Kunde", "Demo Kunde AG")
    expect(page.locator("main h1")).to_have_text("Demo Kunde AG")
    # Partner staff inside a customer org see a notice (ORG-4).
    expect(page.locator(".notice-partner")).to_contain_text("Demo Partner GmbH")
    page.get_by_role("button", name=logout_label).click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    context.close()


def test_language_switcher_changes_the_page_and_remembers_it(page, live_server, demo):
    login(page, live_server, "guest@demo.example")
    expect(page.locator("main h1")).to_have_text("Demo Kunde AG")
    page.select_option("#language-select", "de")
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("main h1")).to_have_text("Benachrichtigungen")
    page.select_option("#language-select", "en")
    expect(page.locator("main h1")).to_have_text("Notifications")


def test_wrong_password_shows_an_error(page, live_server, demo):
    login(page, live_server, "partner@demo.example", password="wrong-password")
    expect(page.locator(".form-errors")).to_be_visible()
