"""Issue 16, the console's shell in Chromium at 1366 px and 390 px, in English and German, for a
partner, a customer and support: no sideways scrolling, Log out on screen, the grouped menu and
the switcher by keyboard, the Support dropdown over the page, and axe-core's serious and critical
findings (none allowed). Screenshots go to var/screenshots/ (gitignored) as the run's artifacts,
with axe's counts in var/screenshots/axe-<language>.json.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .checks import SCREENSHOTS, WIDTHS, axe_serious
from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "logout": "Log out",
        "menu": "Menu",
        "offers": "Offers",
        "templates": "Offer templates",
        "support": "Support",
    },
    "de": {
        "logout": "Abmelden",
        "menu": "Menü",
        "offers": "Angebote",
        "templates": "Angebotsvorlagen",
        "support": "Support",
    },
}


def _check_shell(page, name: str, labels: dict, report: dict) -> None:
    """What every shell page must hold at any width, plus its screenshot and axe's findings."""
    page.wait_for_load_state("networkidle")
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"{name}: the page is {scroll_width} px wide in a {inner_width} px window"
    logout = page.get_by_role("button", name=labels["logout"])
    expect(logout).to_be_visible()
    box = logout.bounding_box()
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= inner_width, f"{name}: Log out is off-screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    report[name] = axe_serious(page)


@pytest.mark.parametrize("language", ["en", "de"])
def test_issue16_shell_at_1366_and_390_px(live_server, demo, browser, language):
    labels = LABELS[language]
    users, orgs = demo["users"], demo["orgs"]
    users["partner"].__class__.objects.update(language=language)
    report: dict[str, list] = {}

    for width in WIDTHS:
        context = browser.new_context(locale=language, viewport={"width": width, "height": 900})
        page = context.new_page()

        # --- a partner: the grouped menu, the keyboard switcher and the way back --------------------
        login(page, live_server, "partner@demo.example")
        expect(page.locator("main h1")).to_have_text("Demo Partner GmbH")
        _check_shell(page, f"partner-{language}-{width}", labels, report)
        nav = page.locator("nav.orgnav")
        if width < 992:
            expect(nav.get_by_role("button", name=labels["offers"])).to_be_hidden()  # collapsed
            nav.get_by_role("button", name=labels["menu"]).click()
        offers = nav.get_by_role("button", name=labels["offers"])
        expect(offers).to_be_visible()
        offers.focus()
        page.keyboard.press("Enter")
        expect(nav.get_by_role("link", name=labels["templates"])).to_be_visible()
        page.keyboard.press("ArrowDown")  # Bootstrap's dropdown moves focus into the menu
        expect(nav.locator(".dropdown-menu.show .dropdown-item").first).to_be_focused()
        _check_shell(page, f"partner-menu-{language}-{width}", labels, report)
        page.keyboard.press("Escape")
        expect(nav.get_by_role("link", name=labels["templates"])).to_be_hidden()
        page.goto(f"{live_server.url}/o/{orgs['partner'].public_id}/customers/")
        _check_shell(page, f"partner-customers-{language}-{width}", labels, report)

        switcher = page.locator("#org-switcher-input")
        switcher.focus()
        page.keyboard.type("Kunde")
        option = page.locator("#org-switcher-results [role=option]", has_text="Demo Kunde AG")
        expect(option).to_be_visible()
        expect(switcher).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("ArrowDown")
        expect(page.locator("#org-switcher-results [role=option][aria-selected=true]")).to_have_count(1)
        active = switcher.get_attribute("aria-activedescendant")
        assert active and page.locator(f"#{active}").count() == 1
        # Move onto Demo Kunde AG with the arrows (other orgs may match "Kunde" first), then Enter.
        for _ in range(10):
            if "Demo Kunde AG" in page.locator(f"#{switcher.get_attribute('aria-activedescendant')}").inner_text():
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(f"/o/{orgs['customer'].public_id}/$"))
        expect(page.locator("main h1")).to_have_text("Demo Kunde AG")
        notice = page.locator(".notice-partner")
        expect(notice).to_contain_text("Demo Partner GmbH")
        _check_shell(page, f"partner-as-staff-{language}-{width}", labels, report)
        notice.get_by_role("link").click()
        expect(page).to_have_url(re.compile(f"/o/{orgs['partner'].public_id}/$"))
        page.get_by_role("button", name=labels["logout"]).click()

        # --- a customer: the Support dropdown opens over the page, not inside the header -------------
        login(page, live_server, "customer@demo.example")
        expect(page.locator("main h1")).to_have_text("Demo Kunde AG")
        _check_shell(page, f"customer-{language}-{width}", labels, report)
        header_height = page.locator(".portal-header").bounding_box()["height"]
        page.locator(".support-menu").get_by_role("button", name=labels["support"]).click()
        card = page.locator(".support-card")
        expect(card).to_be_visible()
        expect(card).to_contain_text("Demo Partner GmbH")
        assert page.locator(".portal-header").bounding_box()["height"] == header_height
        card_box = card.bounding_box()
        assert card_box["x"] >= -1 and card_box["x"] + card_box["width"] <= width + 1  # Popper rounds to ½ px
        _check_shell(page, f"customer-support-{language}-{width}", labels, report)
        page.keyboard.press("Escape")
        page.goto(f"{live_server.url}/o/{orgs['customer'].public_id}/offers/")
        _check_shell(page, f"customer-offers-{language}-{width}", labels, report)
        page.get_by_role("button", name=labels["logout"]).click()

        # --- support staff: the portal's own pages (the admin has its own look) ----------------------
        login(page, live_server, "support@demo.example")
        _check_shell(page, f"support-{language}-{width}", labels, report)
        page.goto(f"{live_server.url}/notifications/")
        _check_shell(page, f"support-notifications-{language}-{width}", labels, report)
        context.close()

    counts = {name: len(findings) for name, findings in report.items()}
    (SCREENSHOTS / f"axe-{language}.json").write_text(json.dumps({"counts": counts, "findings": report}, indent=1))
    print(f"axe serious/critical per page ({language}):", counts)
    assert {name: findings for name, findings in report.items() if findings} == {}
