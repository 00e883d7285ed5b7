"""Redis stopped in the middle of sending (PLT-3: work enqueued while Redis is down is not lost).

Through the API of a real gunicorn: 100 offers are sent and 20 invitations created; Redis is
stopped after half the offers and started again after the invitations. Every request succeeds;
after the restart the outbox sweeper (beat inside the restarted-connection worker) publishes what
stayed pending, and every offer is delivered and every email sent once.

The worker runs the prefork pool, as `make run`, the Makefile's worker and docker compose do.
Tasks are in flight when Redis stops; with kombu's emulated acks that used to kill the worker
(1 failure in 3 runs here; see CELERY_BROKER_TRANSPORT_OPTIONS in portal/settings/base.py).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.harness import markers_in, wait_until

pytestmark = pytest.mark.faults

OFFERS = 100
INVITATIONS = 20
TIMEOUT = 120


def timed(call):
    started = time.monotonic()
    status, _body = call()
    return status, time.monotonic() - started


def test_redis_stopped_midway_through_sends_loses_nothing(stack, fault_report):
    web = stack.web()
    web.start()
    worker = stack.worker(pool="prefork", concurrency=4)
    worker.start()
    world = stack.script("offers_world")
    partner, token = world["partner"], world["partner_token"]

    def send_offer(number):
        return timed(
            lambda: web.request(
                "POST",
                f"/api/v1/organizations/{partner}/offers/",
                token=token,
                data={
                    "customer": world["customer"],
                    "template": world["template"],
                    "message": f"fault-offer-{number}",
                    "allow_duplicate": True,
                },
            )
        )

    def invite(number):
        return timed(
            lambda: web.request(
                "POST",
                f"/api/v1/organizations/{partner}/invitations/",
                token=token,
                data={"email": f"fault-invite-{number}@example.com", "role": "member"},
            )
        )

    # four clients at once (gunicorn has four threads); Redis stops after the first half
    with ThreadPoolExecutor(max_workers=4) as clients:
        before = list(clients.map(send_offer, range(OFFERS // 2)))
        stack.redis.stop()
        down = list(clients.map(send_offer, range(OFFERS // 2, OFFERS)))
        down += list(clients.map(invite, range(INVITATIONS)))
    answers = Counter(status for status, _seconds in before + down)
    slowest_while_down = max(seconds for _status, seconds in down)
    pending_while_down = stack.outbox_counts().get("pending", 0)
    stack.redis.start()
    restarted = time.monotonic()

    expected = {f"fault-offer-{n}" for n in range(OFFERS)} | {f"fault-invite-{n}" for n in range(INVITATIONS)}

    def emails() -> Counter:
        return Counter(
            marker
            for message in stack.emails()
            for marker in set(markers_in(message["body"]) + markers_in(message["to"] or ""))
        )

    def delivered() -> int:
        return stack.postgres.sql("SELECT count(*) FROM offers_offer WHERE status = 'waiting_for_confirmation'")[0][0]

    first_progress = []

    def everything_out() -> bool:
        counts = stack.outbox_counts()
        if not first_progress and counts.get("pending", 0) < pending_while_down:
            first_progress.append(time.monotonic() - restarted)
        return counts.get("pending", 0) + counts.get("processing", 0) == 0 and set(emails()) >= expected

    try:
        wait_until(everything_out, timeout=TIMEOUT, interval=0.25, what="all work done after Redis came back")
    except TimeoutError:
        pytest.fail(
            f"after {TIMEOUT} s: outbox {stack.outbox_counts()}, offers delivered {delivered()}/{OFFERS}, "
            f"emails {len(set(emails()) & expected)}/{len(expected)}; worker alive: {worker.alive}\n"
            f"{worker.tail(20000)}"
        )
    recovery = time.monotonic() - restarted

    sent = emails()
    duplicated = sum(count - 1 for marker, count in sent.items() if marker in expected and count > 1)
    fault_report.record(
        "Redis stopped during 100 offer sends + 20 invitations",
        sent=OFFERS + INVITATIONS,
        delivered=len(set(sent) & expected),
        lost=len(expected - set(sent)),
        duplicated=duplicated,
        recovery_s=recovery,
        answers=dict(sorted((str(k), v) for k, v in answers.items())),
        pending_while_down=pending_while_down,
        slowest_request_down_s=slowest_while_down,
        offers_delivered=delivered(),
        first_progress_s=first_progress[0] if first_progress else None,
    )
    assert answers == Counter({201: OFFERS + INVITATIONS}), f"not every send succeeded: {answers}"
    assert pending_while_down >= OFFERS // 2, "the sends while Redis was down should have stayed in the outbox"
    assert delivered() == OFFERS
    assert duplicated == 0, f"duplicate emails: {sent.most_common(3)}"
    assert stack.outbox_counts().get("failed", 0) == 0
    assert worker.starts == 1 and worker.alive, "the worker must survive a Redis restart"
