"""PLT-3: background work as outbox rows, executed by a real Celery worker through real Redis."""

import time
from collections.abc import Callable
from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import transaction

from portal.celery import app
from portal.emails import email_enqueue_rendered
from portal.models import OutboxMessage
from portal.outbox import RetryLater, outbox_process_message, outbox_sweep_due, outbox_task

# One outbox job for the tests, declared like an app's job (at import, so a worker started later
# knows its task); each test scripts what it does by a name in the payload.
TEST_KIND = "test.job"
BEHAVIOURS: dict[str, Callable[[dict], None]] = {}
FAILED_PAYLOADS: list[dict] = []


@outbox_task(TEST_KIND, name="tests.test_outbox.scripted_job", on_failed=FAILED_PAYLOADS.append)
def scripted_job(payload: dict) -> None:
    BEHAVIOURS[payload["behaviour"]](payload)


@contextmanager
def behaviour(name: str, func: Callable[[dict], None]):
    """Rows with payload {"behaviour": name} run `func` while the block lasts."""
    BEHAVIOURS[name] = func
    FAILED_PAYLOADS.clear()
    try:
        yield func
    finally:
        BEHAVIOURS.pop(name, None)


def _reset_publisher_pools():
    """Make the next publish open a new connection to the (changed) broker URL."""
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_email_goes_through_redis_to_a_real_worker(celery_live_worker):
    with transaction.atomic():
        message = email_enqueue_rendered(to="worker@example.com", subject="Hello", body="From the worker")
    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.DONE)
    assert [m.to for m in mail.outbox] == [["worker@example.com"]]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_redis_down_while_enqueueing_loses_nothing(celery_live_worker, settings):
    good_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # Redis "down": nothing listens there
    _reset_publisher_pools()
    try:
        with transaction.atomic():
            message = email_enqueue_rendered(to="later@example.com", subject="Kept", body="Stored while Redis was down")
        # The commit succeeded, the publish failed quietly: the row waits.
        assert OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.PENDING
    finally:
        app.conf.broker_url = good_broker
        _reset_publisher_pools()
    assert mail.outbox == []
    # Redis is back: the periodic sweeper re-publishes the row and the worker sends it once.
    assert outbox_sweep_due() == 1
    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.DONE)
    assert [m.to for m in mail.outbox] == [["later@example.com"]]
    assert outbox_sweep_due() == 0


@pytest.mark.django_db
def test_a_message_runs_once_even_when_processed_twice(django_capture_on_commit_callbacks):
    message = email_enqueue_rendered(to="once@example.com", subject="Once", body="Only once")
    assert outbox_process_message(message_id=message.pk) == "done"
    assert outbox_process_message(message_id=message.pk) == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_dedupe_key_stores_one_row():
    first = email_enqueue_rendered(to="a@example.com", subject="S", body="B", dedupe_key="invite:1")
    second = email_enqueue_rendered(to="a@example.com", subject="S", body="B", dedupe_key="invite:1")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_temporary_failure_is_retried_with_backoff_then_fails_for_good(settings):
    calls = []

    def flaky(payload):
        calls.append(payload)
        raise RetryLater("not yet")

    with behaviour("flaky", flaky):
        settings.OUTBOX_MAX_ATTEMPTS = 2
        message = OutboxMessage.objects.create(kind=TEST_KIND, payload={"behaviour": "flaky"})
        assert outbox_process_message(message_id=message.pk) == OutboxMessage.Status.PENDING
        message.refresh_from_db()
        assert message.attempts == 1 and "not yet" in message.last_error
        # not due yet: backoff
        assert outbox_process_message(message_id=message.pk) == "skipped"
        OutboxMessage.objects.filter(pk=message.pk).update(available_at=message.created_at)
        assert outbox_process_message(message_id=message.pk) == OutboxMessage.Status.FAILED
        assert len(calls) == 2


@pytest.mark.django_db
def test_sweeper_releases_rows_stuck_in_processing(settings):
    from datetime import timedelta

    from django.utils import timezone

    message = email_enqueue_rendered(to="stuck@example.com", subject="S", body="B")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.PROCESSING, claimed_at=timezone.now() - timedelta(minutes=10), attempts=1
    )
    assert outbox_sweep_due() == 1  # eager in unit tests: processed at once
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.DONE
    assert len(mail.outbox) == 1
