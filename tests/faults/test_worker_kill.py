"""A Celery worker killed with SIGKILL in the middle of delivering offers (PLT-3, OFR-4).

A real `celery -A portal worker` (beat embedded: the outbox sweeper every second) delivers offers
to a customer with a webhook. The receiver kills the worker's process group while the worker waits
for its answer – twice, the second time after a restart. The worker is restarted each time.
Afterwards every offer is delivered, with exactly one acknowledged webhook per delivery id and
exactly one email per offer.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.harness import WebhookReceiver, markers_in, wait_until

pytestmark = pytest.mark.faults

OFFERS = 20
KILL_ON_REQUESTS = (3, 8)  # the n-th webhook request to arrive kills the worker waiting for the answer
TIMEOUT = 90


def test_worker_killed_mid_delivery_loses_nothing_and_duplicates_nothing(stack, fault_report):
    worker = stack.worker()
    kills: list[float] = []

    def kill_on(number):
        if number in KILL_ON_REQUESTS and worker.alive:
            worker.kill()
            kills.append(time.monotonic())

    receiver = WebhookReceiver(delay=0.2, on_request=kill_on)
    try:
        world = stack.script("offers_world", webhook_url=receiver.url)
        worker.start()
        offer_ids = stack.script("send_offers", count=OFFERS, **world)["offers"]
        assert len(offer_ids) == OFFERS

        def delivered_everything() -> bool:
            if not worker.alive:
                worker.start()  # the operator's (or systemd's) restart
            counts = stack.outbox_counts()
            return counts.get("pending", 0) + counts.get("processing", 0) == 0 and delivered_count() == OFFERS

        def delivered_count() -> int:
            return stack.postgres.sql("SELECT count(*) FROM offers_offer WHERE status = 'waiting_for_confirmation'")[0][
                0
            ]

        try:
            wait_until(delivered_everything, timeout=TIMEOUT, interval=0.25, what="all offers delivered")
        except TimeoutError:
            pytest.fail(
                f"not delivered after {TIMEOUT} s; outbox {stack.outbox_counts()}, delivered "
                f"{delivered_count()}/{OFFERS}, kills {len(kills)}\n{worker.tail()}"
            )
        recovery = time.monotonic() - kills[-1] if kills else None
    finally:
        receiver.close()

    emails = Counter(marker for message in stack.emails() for marker in set(markers_in(message["body"])))
    offer_markers = {f"fault-offer-{n}" for n in range(OFFERS)}
    email_duplicates = sum(count - 1 for marker, count in emails.items() if marker in offer_markers and count > 1)
    webhook_ids = set(receiver.acknowledged)
    fault_report.record(
        "worker SIGKILL mid-delivery",
        sent=OFFERS,
        delivered=delivered_count(),
        lost=OFFERS - len(webhook_ids),
        duplicated=receiver.duplicated + email_duplicates,
        recovery_s=recovery,
        kills=len(kills),
        worker_starts=worker.starts,
        webhooks_aborted=sum(receiver.aborted.values()),
        emails=sum(emails.values()),
        failed_rows=stack.outbox_counts().get("failed", 0),
    )
    assert len(kills) == len(KILL_ON_REQUESTS), "the worker was not killed mid-delivery as planned"
    assert sum(receiver.aborted.values()) == len(KILL_ON_REQUESTS)  # the killed deliveries were cut off
    assert webhook_ids == {f"offer-{pk}-1" for pk in offer_ids}, "a webhook delivery was lost"
    assert receiver.duplicated == 0, f"webhook acknowledged twice: {receiver.acknowledged.most_common(3)}"
    assert set(emails) >= offer_markers, f"emails lost: {sorted(offer_markers - set(emails))}"
    assert email_duplicates == 0, f"duplicate emails: {emails.most_common(3)}"
    assert stack.outbox_counts().get("failed", 0) == 0
