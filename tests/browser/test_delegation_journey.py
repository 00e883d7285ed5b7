"""A caretaker delegation end to end in a real browser, in English and German (DLG-1, DLG-3, DLG-4).

Demo Agentur has an open request for Demo Kunde AG's website (seed_demo). The customer's Owner
accepts it on the delegation page; the caretaker then finds the project, marked, among its
projects and ends the delegation itself (DLG-5).
"""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "caretakers": "Technical caretakers",
        "incoming": "Incoming requests",
        "accept": "Accept",
        "active": "Active",
        "caretaker": "Caretaker",
        "managed": "Managed projects",
        "revoke": "Revoke",
        "revoked": "Revoked",
        "logout": "Log out",
    },
    "de": {
        "caretakers": "Technische Betreuer",
        "incoming": "Eingehende Anfragen",
        "accept": "Annehmen",
        "active": "Aktiv",
        "caretaker": "Betreuer",
        "managed": "Betreute Projekte",
        "revoke": "Widerrufen",
        "revoked": "Widerrufen",
        "logout": "Abmelden",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_customer_accepts_a_caretaker_request_and_the_caretaker_manages_the_project(
    live_server, demo, browser, language
):
    labels = LABELS[language]
    users, orgs, projects = demo["users"], demo["orgs"], demo["projects"]
    users["customer"].__class__.objects.filter(email__in=["customer@demo.example", "caretaker@demo.example"]).update(
        language=language
    )
    project = projects["customer_web"]
    context = browser.new_context(locale=language)
    context.on("dialog", lambda dialog: dialog.accept())  # "End this delegation now?"
    page = context.new_page()

    # The customer's Owner sees the agency's request among the incoming ones and accepts it.
    login(page, live_server, "customer@demo.example")
    page.goto(f"{live_server.url}/o/{orgs['customer'].public_id}/delegations/?tab=incoming")
    expect(page.locator("main h1")).to_have_text(labels["caretakers"])
    expect(page.locator("main h2")).to_have_text(labels["incoming"])
    page.get_by_role("link", name=f"{project.number} {project.name}").click()
    page.get_by_role("button", name=labels["accept"], exact=True).click()
    expect(page.locator("main .facts")).to_contain_text(labels["active"])
    page.get_by_role("button", name=labels["logout"]).click()

    # The caretaker finds the project, marked as cared for, among its projects …
    login(page, live_server, "caretaker@demo.example")
    page.goto(f"{live_server.url}/projects/?q={project.number}")
    row = page.locator("tr", has_text=project.name)
    expect(row).to_contain_text(labels["caretaker"])
    # … and lists it under managed projects, where it can end the delegation.
    page.goto(f"{live_server.url}/o/{orgs['agency'].public_id}/delegations/?tab=managed")
    expect(page.locator("main h2")).to_have_text(labels["managed"])
    page.get_by_role("link", name=f"{project.number} {project.name}").click()
    page.get_by_role("button", name=labels["revoke"]).click()
    expect(page.locator("main .facts")).to_contain_text(labels["revoked"])
    page.goto(f"{live_server.url}/projects/?q={project.number}")
    expect(page.locator("tr", has_text=project.name)).to_have_count(0)
    context.close()
