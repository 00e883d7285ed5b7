"""Browser tests: pytest-playwright driving Debian's Chromium (`apt-get install chromium`).

Without /usr/bin/chromium these tests are skipped with a loud message – except in CI (CI=true),
where a missing browser is an error.
"""

from __future__ import annotations

import os
import shutil
import warnings

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs an event loop


def pytest_collection_modifyitems(config, items):
    browser_items = [item for item in items if "tests/browser/" in str(item.fspath)]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if HAVE_CHROMIUM or not browser_items:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI: Chromium not found at {CHROMIUM}; .ci/run must install Debian's chromium.")
    message = (
        "\n" + "!" * 78 + "\n"
        f"!! SKIPPING {len(browser_items)} BROWSER TESTS: no Chromium at {CHROMIUM}.\n"
        "!! Install it with `sudo apt-get install chromium` to run them.\n" + "!" * 78
    )
    print(message)
    warnings.warn(message, stacklevel=2)
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
    for item in browser_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def demo(transactional_db, settings):
    """Demo data in the live server's database."""
    from portal.management.commands.seed_demo import seed_all

    settings.STATIC_URL = "/static/"
    return seed_all()


def switch_to(page, query, name):
    """Type `query` into the org switcher and open `name` from its results. Waits for the answer
    to this query: the list shown on focus may still be swapped out under the click."""
    page.fill("#org-switcher-input", query)
    page.locator(f'#org-switcher-listbox[data-query="{query.strip()}"]').wait_for()  # the server strips it
    page.locator("#org-switcher-results a", has_text=name).click()


def login(page, live_server, email, password="demo-portal-2026"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
