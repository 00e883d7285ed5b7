"""Issue 14.5: a PostgreSQL outage answers 503 (JSON for the API, a page for browsers) and heals itself.

A PostgreSQL of this test's own (pgserver) serves the app under gunicorn in a subprocess; the test
stops the database server while the app keeps running, then starts it again. Real connection
refusals, real persistent connections (CONN_MAX_AGE), no restart of the app.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.fuzz_servers import AppServer, ThrowawayPostgres


@pytest.fixture
def app_on_its_own_postgres(tmp_path):
    postgres = ThrowawayPostgres()
    server = AppServer(database_url=postgres.url, workdir=tmp_path, workers=1, threads=2)
    try:
        server.prepare()
        server.start()
        yield server, postgres
    finally:
        server.stop()
        postgres.start()
        postgres.cleanup()


def _browser_session(server: AppServer) -> requests.Session:
    session = requests.Session()
    login = session.get(f"{server.url}/accounts/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    response = session.post(
        f"{server.url}/accounts/login/",
        data={"username": "partner@demo.example", "password": "demo-portal-2026", "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{server.url}/accounts/login/"},
        timeout=10,
    )
    assert response.status_code == 200 and "/accounts/login/" not in response.url, response.url
    return session


def test_14_5_a_database_outage_answers_503_and_the_app_recovers_without_a_restart(app_on_its_own_postgres):
    server, postgres = app_on_its_own_postgres
    api = requests.Session()
    api.headers["Authorization"] = f"Token {server.token('partner@demo.example')}"
    organizations = api.get(f"{server.url}/api/v1/organizations/", timeout=10)
    assert organizations.status_code == 200, organizations.text
    org = organizations.json()["results"][0]["public_id"]
    browser = _browser_session(server)
    page = f"{server.url}/o/{org}/"
    assert browser.get(page, timeout=10).status_code == 200

    postgres.stop()

    for _ in range(3):  # each of the app's threads and its persistent connection
        response = api.get(f"{server.url}/api/v1/organizations/", timeout=30)
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == "service_unavailable"
        assert int(response.headers["Retry-After"]) > 0
    for language, text in (("en", "Temporarily unavailable"), ("de", "Vorübergehend nicht verfügbar")):
        response = browser.get(page, headers={"Accept-Language": language}, timeout=30)
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Content-Type"].startswith("text/html")
        assert text in response.text
        assert int(response.headers["Retry-After"]) > 0
    anonymous = requests.get(f"{server.url}/api/v1/organizations/", timeout=30)
    assert anonymous.status_code in (401, 503), anonymous.text[:300]

    postgres.start()

    for _ in range(3):
        assert api.get(f"{server.url}/api/v1/organizations/", timeout=30).status_code == 200
        assert browser.get(page, timeout=30).status_code == 200
    assert "Traceback" not in server.log.read_text() or "OperationalError" in server.log.read_text()
