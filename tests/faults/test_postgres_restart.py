"""PostgreSQL restarted under requests (PLT-2 error shape, PLT-6 operations).

Four API clients keep reading and writing through a real gunicorn while the database server is
stopped (fast shutdown: every open connection is cut) and started again. During the outage every
answer is a clean 503 – the API's JSON error body, `/healthz` saying which check failed – never a
500 and never a dropped connection. Afterwards the same gunicorn process answers 200 again within
seconds: nobody restarts the app.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from .harness import wait_until

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 3
RECOVERY_LIMIT = 15


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
            data={"customer": world["customer"], "template": world["template"], "message": "fault-offer-0"},
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
        time.sleep(OUTAGE_SECONDS)
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
