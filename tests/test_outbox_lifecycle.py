"""Issue 11 item 6 and issue 14 item 7: secrets leave the outbox when a row has run, finished rows are
purged, workers heartbeat their rows so a dead worker's row is taken over within seconds, and a
permanent error fails at once. Real PostgreSQL, Redis and Celery workers; no mocks."""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from organizations.roles import OrgRole
from organizations.services.invitations import invitation_create
from portal.celery import app
from portal.models import OutboxMessage
from portal.outbox import (
    PermanentError,
    outbox_process_message,
    outbox_purge_finished,
    outbox_release_stale,
    outbox_sweep_due,
)
from tests import factories
from tests.test_outbox import BEHAVIOURS, TEST_KIND, _reset_publisher_pools, behaviour, wait_for

Status = OutboxMessage.Status


def tables_containing(text: str) -> list[str]:
    """Every table with a row whose text form contains `text` (PostgreSQL: `row::text`)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT 1 FROM {quoted} AS r WHERE r::text LIKE %s LIMIT 1", [f"%{text}%"])
            if cursor.fetchone():
                found.append(table)
    return found


@contextmanager
def redis_down():
    """Publishing fails (nothing listens on the broker port) until the block ends."""
    good_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    _reset_publisher_pools()
    try:
        yield
    finally:
        app.conf.broker_url = good_broker
        _reset_publisher_pools()


# --- 11.6: secrets outlive their use ---------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_11_6_the_raw_invitation_token_is_nowhere_in_the_database_after_the_worker_sent_it(celery_live_worker):
    organization = factories.OrganizationFactory(name="Secret AG")
    owner = factories.member(organization, OrgRole.OWNER)
    with redis_down():  # the row waits, so we can look at it first
        with transaction.atomic():
            invitation = invitation_create(
                organization=organization, email="new@example.com", role=OrgRole.ADMIN, actor=owner
            )
    row = OutboxMessage.objects.get(dedupe_key__startswith=f"invitation:{invitation.pk}:")
    token = row.secret_payload["token"]
    assert "token" not in row.payload
    # the scanner finds the secret while the email is still to be sent …
    assert tables_containing(token) == ["portal_outboxmessage"]
    outbox_sweep_due()
    assert wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).status == Status.DONE)
    [email] = mail.outbox
    assert token in email.body  # the invitee got the working link …
    assert tables_containing(token) == []  # … and no table keeps it
    assert OutboxMessage.objects.get(pk=row.pk).secret_payload == {}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_11_6_the_password_reset_link_is_nowhere_in_the_database_after_the_worker_sent_it(celery_live_worker, client):
    factories.UserFactory(email="reset@example.com")
    assert client.post("/accounts/password/reset/", {"email": "reset@example.com"}).status_code == 302
    assert wait_for(lambda: OutboxMessage.objects.filter(status=Status.DONE).exists())
    [email] = mail.outbox
    uidb64, token = re.search(r"/accounts/password/reset/([^/\s]+)/([^/\s]+)/", email.body).groups()
    assert tables_containing(token) == []


@pytest.mark.django_db
def test_11_6_a_failed_row_loses_its_secrets_too():
    def fails(payload):
        assert payload["key"] == "k-123-secret"  # the handler gets its secret …
        raise PermanentError("refused")

    with behaviour("secret_fails", fails):
        payload = {"behaviour": "secret_fails"}
        message = OutboxMessage.objects.create(kind=TEST_KIND, payload=payload, secret_payload={"key": "k-123-secret"})
        assert outbox_process_message(message_id=message.pk) == Status.FAILED
        message.refresh_from_db()
        assert message.secret_payload == {} and message.payload == payload  # … and it is gone afterwards


@pytest.mark.django_db
def test_11_6_purge_deletes_old_done_and_failed_rows_only(settings):
    settings.OUTBOX_RETENTION_DAYS = 30
    now = timezone.now()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)

    def row(status, done_at=None, created_at=None):
        message = OutboxMessage.objects.create(kind="test.purge", status=status, done_at=done_at)
        if created_at:
            OutboxMessage.objects.filter(pk=message.pk).update(created_at=created_at)
        return message.pk

    doomed = {row(Status.DONE, old), row(Status.FAILED, old), row(Status.FAILED, None, created_at=old)}
    kept = {
        row(Status.DONE, recent),
        row(Status.FAILED, recent),
        row(Status.PENDING, created_at=old),
        row(Status.PROCESSING, created_at=old),
    }
    assert outbox_purge_finished() == 3
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == kept
    assert not OutboxMessage.objects.filter(pk__in=doomed).exists()
    # the purge runs on beat every day
    assert "portal.tasks.outbox_purge" in django_settings.CELERY_BEAT_SCHEDULE


# --- 14.7: recovery is slow --------------------------------------------------------------------------


@pytest.mark.django_db
def test_14_7_a_row_whose_worker_stopped_beating_is_released_after_seconds_not_minutes(
    settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_STALE_AFTER = timedelta(seconds=15)
    now = timezone.now()
    dead = OutboxMessage.objects.create(
        kind="email.send_rendered",
        payload={"to": "a@example.com", "subject": "S"},
        secret_payload={"body": "B"},
        status=Status.PROCESSING,
        claimed_at=now - timedelta(seconds=20),
        heartbeat_at=now - timedelta(seconds=20),
        attempts=1,
    )
    # claimed long ago but beating: a slow handler, not a dead worker
    alive = OutboxMessage.objects.create(
        kind="test.slow",
        status=Status.PROCESSING,
        claimed_at=now - timedelta(minutes=30),
        heartbeat_at=now - timedelta(seconds=3),
        attempts=1,
    )
    assert outbox_sweep_due() == 1  # eager in unit tests: processed at once
    assert OutboxMessage.objects.get(pk=dead.pk).status == Status.DONE
    assert OutboxMessage.objects.get(pk=alive.pk).status == Status.PROCESSING
    assert len(mail.outbox) == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_14_7_a_running_handler_heartbeats_its_row_so_it_is_never_taken_over(celery_live_worker, settings):
    settings.OUTBOX_HEARTBEAT_SECONDS = 0.2
    settings.OUTBOX_STALE_AFTER = timedelta(seconds=1)
    runs = []

    def slow(payload):
        runs.append(payload["n"])
        time.sleep(3)  # three times the stale threshold

    with behaviour("slow", slow):
        with transaction.atomic():
            from portal.outbox import outbox_enqueue

            message = outbox_enqueue(kind=TEST_KIND, payload={"behaviour": "slow", "n": 1})
        assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == Status.PROCESSING)
        released = 0
        while OutboxMessage.objects.get(pk=message.pk).status == Status.PROCESSING:
            released += outbox_release_stale()  # the sweeper, as often as it likes
            time.sleep(0.1)
        assert released == 0
        row = OutboxMessage.objects.get(pk=message.pk)
        assert row.status == Status.DONE and row.attempts == 1 and runs == [1]
        assert row.heartbeat_at > row.claimed_at + timedelta(seconds=2)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_14_7_a_starting_worker_sweeps_at_once(celery_live_worker):
    """The `worker_ready` signal (sent by `celery worker` when it is up) publishes a sweep."""
    from celery.signals import worker_ready

    message = OutboxMessage.objects.create(
        kind="email.send_rendered",
        payload={"to": "left@example.com", "subject": "Left behind"},
        secret_payload={"body": "by a dead worker"},
        status=Status.PROCESSING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=1),
        heartbeat_at=timezone.now() - timedelta(minutes=1),
    )
    worker_ready.send(sender=None)
    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == Status.DONE, timeout=10)
    assert [m.to for m in mail.outbox] == [["left@example.com"]]


@pytest.mark.django_db
def test_14_7_a_permanent_error_fails_at_once_and_other_errors_are_retried(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 5
    calls = []

    def permanent(payload):
        calls.append("permanent")
        raise PermanentError("the recipient does not exist")

    def transient(payload):
        calls.append("transient")
        raise ConnectionError("try again")

    with behaviour("permanent", permanent), behaviour("transient", transient):
        first = OutboxMessage.objects.create(kind=TEST_KIND, payload={"behaviour": "permanent"})
        assert outbox_process_message(message_id=first.pk) == Status.FAILED
        first.refresh_from_db()
        assert first.attempts == 1 and "does not exist" in first.last_error and first.done_at is not None
        second = OutboxMessage.objects.create(kind=TEST_KIND, payload={"behaviour": "transient"})
        assert outbox_process_message(message_id=second.pk) == Status.PENDING
        unknown = OutboxMessage.objects.create(kind="test.nobody-handles-this")
        assert outbox_process_message(message_id=unknown.pk) == Status.FAILED
        assert calls == ["permanent", "transient"]


@pytest.mark.django_db(transaction=True)
def test_14_7_a_worker_whose_row_was_taken_over_cannot_overwrite_the_new_owners_result(settings):
    """The claim fences every later write: the slow first owner finishing late changes nothing."""
    settings.OUTBOX_HEARTBEAT_SECONDS = 60  # no beats: the row looks dead to the sweeper
    settings.OUTBOX_STALE_AFTER = timedelta(seconds=0.5)
    started, go_on = threading.Event(), threading.Event()
    runs = []

    def overtaken(payload):
        runs.append(threading.current_thread().name)
        if len(runs) == 1:
            started.set()
            go_on.wait(10)
            raise RuntimeError("the first owner fails late")

    try:
        BEHAVIOURS["overtaken"] = overtaken
        message = OutboxMessage.objects.create(kind=TEST_KIND, payload={"behaviour": "overtaken"})
        results = {}
        first = threading.Thread(target=lambda: results.update(first=outbox_process_message(message_id=message.pk)))
        first.start()
        assert started.wait(10)
        time.sleep(0.6)
        assert outbox_release_stale() == 1
        assert outbox_process_message(message_id=message.pk) == Status.DONE  # the second owner
        go_on.set()
        first.join(10)
        assert results["first"] == "skipped"
        row = OutboxMessage.objects.get(pk=message.pk)
        assert row.status == Status.DONE and row.attempts == 2 and row.last_error == ""
    finally:
        go_on.set()
        BEHAVIOURS.pop("overtaken")
