"""PostgreSQL restarted under requests (PLT-2 error shape, PLT-6 operations; issue 14.5).

Four API clients keep reading and writing through a real gunicorn while the database server is
stopped (fast shutdown: every open connection is cut) and started again. During the outage every
answer is a clean 503 – the API's JSON error body with `Retry-After`, a translated HTML page for a
signed-in browser, `/healthz` saying which check failed – never a 500 and never a dropped
connection. Afterwards the same gunicorn process answers 200 again within seconds, to the API and
to the browser session opened before the outage: nobody restarts the app.

(The one PostgreSQL-outage test since issue 12: it took over `tests/test_fuzz_outage.py`.)
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import pytest
import requests

from tests.factories import PASSWORD
from tests.harness import wait_until

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 3
RECOVERY_LIMIT = 15


def _browser_session(base_url: str, email: str) -> requests.Session:
    """A signed-in browser session (login form with its CSRF token)."""
    session = requests.Session()
    login = session.get(f"{base_url}/accounts/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{base_url}/accounts/login/"},
        timeout=10,
    )
    assert response.status_code == 200 and "/accounts/login/" not in response.url, response.url
    return session


def _outage_answers(base_url: str, token: str, browser: requests.Session, page: str) -> list[str]:
    """What the API, a browser and an anonymous client get while PostgreSQL is down (issue 14.5)."""
    problems = []
    api = requests.get(f"{base_url}/api/v1/organizations/", headers={"Authorization": f"Token {token}"}, timeout=30)
    if not (
        api.status_code == 503
        and api.headers.get("Content-Type", "").startswith("application/json")
        and api.json()["error"]["code"] == "service_unavailable"
        and int(api.headers.get("Retry-After", 0)) > 0
    ):
        problems.append(f"API: {api.status_code} {dict(api.headers)} {api.text[:300]}")
    for language, text in (("en", "Temporarily unavailable"), ("de", "Vorübergehend nicht verfügbar")):
        response = browser.get(page, headers={"Accept-Language": language}, timeout=30)
        if not (
            response.status_code == 503
            and response.headers.get("Content-Type", "").startswith("text/html")
            and text in response.text
            and int(response.headers.get("Retry-After", 0)) > 0
        ):
            problems.append(f"browser ({language}): {response.status_code} {response.text[:300]}")
    anonymous = requests.get(f"{base_url}/api/v1/organizations/", timeout=30)
    if anonymous.status_code not in (401, 503):
        problems.append(f"anonymous: {anonymous.status_code} {anonymous.text[:300]}")
    return problems


def test_postgres_restart_under_requests_gives_clean_503s_and_recovers_without_restarting_the_app(stack, fault_report):
    world = stack.script("offers_world")
    web = stack.web()
    web.start()
    gunicorn_pid = web.popen.pid
    partner, token = world["partner"], world["partner_token"]
    calls = {
        "list": lambda: web.request("GET", "/api/v1/organizations/", token=token),
        "send": lambda: web.request(
            "POST",
            f"/api/v1/organizations/{partner}/offers/",
            token=token,
            data={
                "customer": world["customer"],
                "template": world["template"],
                "message": "fault-offer-0",
                "allow_duplicate": True,
            },
        ),
        "healthz": lambda: web.request("GET", "/healthz"),
    }
    results: list[tuple[str, float, float, int | None, object]] = []  # kind, started, ended, status, body
    lock = threading.Lock()
    stop = threading.Event()

    def client(kind):
        while not stop.is_set():
            began = time.monotonic()
            status, body = calls[kind]()
            with lock:
                results.append((kind, began, time.monotonic(), status, body))
            time.sleep(0.05)

    browser = _browser_session(web.base_url, world["partner_owner"])
    page = f"{web.base_url}/o/{partner}/"
    assert browser.get(page, timeout=10).status_code == 200
    outage_problems: list[str] = []

    threads = [
        threading.Thread(target=client, args=(kind,), daemon=True) for kind in ("list", "list", "send", "healthz")
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        stopping = time.monotonic()
        stack.postgres.stop()
        stopped = time.monotonic()
        outage_problems = _outage_answers(web.base_url, token, browser, page)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        starting = time.monotonic()
        stack.postgres.start()
        started = time.monotonic()

        def recovered() -> bool:
            with lock:
                recent = [r for r in results if r[1] > started and r[0] == "list"]
            return len(recent) >= 4 and all(r[3] == 200 for r in recent[-4:])

        try:
            wait_until(recovered, timeout=RECOVERY_LIMIT, what="API answering 200 after PostgreSQL restarted")
        finally:
            time.sleep(0.5)
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
    finally:
        if not stack.postgres.running:
            stack.postgres.start()

    before = [r for r in results if r[2] < stopping]
    down = [r for r in results if r[1] > stopped and r[2] < starting]  # began after the shutdown completed
    after = [r for r in results if r[1] > started]
    first_ok = min((r[2] for r in after if r[0] == "list" and r[3] == 200), default=None)
    last_bad = max((r[2] for r in after if r[3] not in (200, 201)), default=started)
    server_errors = [r for r in results if r[3] is None or r[3] >= 500 and r[3] != 503]

    def tally(rows):
        return dict(Counter(f"{kind}:{status}" for kind, _b, _e, status, _body in rows))

    fault_report.record(
        # sent: requests; delivered: answered cleanly (2xx, or 503 while down); lost: 500s and dropped connections
        "PostgreSQL restart under requests",
        sent=len(results),
        delivered=len(results) - len(server_errors),
        lost=len(server_errors),
        duplicated=0,
        recovery_s=(first_ok - started) if first_ok else None,
        settled_s=last_bad - started,
        outage_s=starting - stopping,
        during_outage=tally(down),
        after=tally(after),
    )
    assert web.alive and web.popen.pid == gunicorn_pid, "gunicorn must keep running"
    assert web.log.read_text(errors="replace").count("Booting worker") == 1, "gunicorn's worker was restarted"
    assert set(tally(before)) <= {"list:200", "send:201", "healthz:200"}, tally(before)
    assert down, "no request ran during the outage"
    assert not server_errors, (
        f"500s or dropped connections: {[(r[0], r[3], str(r[4])[:200]) for r in server_errors[:5]]}"
    )
    for kind, _began, _ended, status, body in down:
        assert status == 503, (kind, status, str(body)[:300])
        if kind == "healthz":
            assert isinstance(body, dict) and body["checks"]["database"] == "error", body
        else:
            assert isinstance(body, dict) and set(body) == {"error"} and body["error"].get("code"), str(body)[:300]
    assert first_ok is not None and first_ok - started < RECOVERY_LIMIT
    assert last_bad - started < RECOVERY_LIMIT
    assert not outage_problems, outage_problems
    for _ in range(3):  # the browser session opened before the outage works again
        assert browser.get(page, timeout=30).status_code == 200
