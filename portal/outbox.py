"""The outbox: background work stored as rows and executed by named Celery tasks (PLT-3).

Every job is declared in its app's `tasks.py` with `@outbox_task(kind, name="app.tasks.job")`:
a named Celery task (what Flower, the logs and `CELERY_TASK_ROUTES` see) that is fed by the
outbox. Use `outbox_enqueue(kind=…, payload=…)` inside the service's transaction. The row commits
with the business change; only after the commit is the row's own task published (the relay). If
Redis is down at that moment the row simply stays pending and the sweeper (`portal.tasks.outbox_sweep`, on beat every
`OUTBOX_SWEEP_SECONDS`, and once when a worker starts) publishes it later.

Delivery is at-least-once, not exactly-once: a worker that dies after the side effect (the email
accepted by the mail server, the webhook answered) and before it marks the row done leaves a row
that the sweeper hands to another worker, which performs the side effect again. Handlers must
therefore be idempotent where they can (conditional UPDATEs, dedupe keys, recording an attempt
before an external call) and receivers must tolerate a repeat (webhooks carry a stable
`X-Portal-Delivery` id for that). While a handler runs, the worker refreshes the row's
`heartbeat_at` every `OUTBOX_HEARTBEAT_SECONDS`; the sweeper releases a row whose heartbeat is older
than `OUTBOX_STALE_AFTER`, so a dead worker's row is taken over within seconds, not minutes.

Secrets (tokens, links with tokens) go to `secrets=`, stored in `secret_payload` and emptied when
the row finishes; finished rows are deleted after `OUTBOX_RETENTION_DAYS` (`outbox_purge_finished`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

FINISHED = (OutboxMessage.Status.DONE, OutboxMessage.Status.FAILED)


class RetryLater(Exception):
    """Raised by a job for a temporary failure it expected (a busy receiver, a rate limit).

    The row is retried after `delay` (seconds or a timedelta), or after the usual backoff when no
    delay is given; it counts as an attempt, so after `OUTBOX_MAX_ATTEMPTS` the row fails. Logged
    as one line, without a traceback: nothing is broken.
    """

    def __init__(self, message: str = "", *, delay: timedelta | float | None = None):
        super().__init__(message)
        self.delay = timedelta(seconds=delay) if isinstance(delay, int | float) else delay


class PermanentError(Exception):
    """Raised by a job for a failure that no retry can fix: the row fails at once.

    Any other exception is unexpected (a bug, a database hiccup, a timeout): it is logged with its
    traceback and retried with backoff until `OUTBOX_MAX_ATTEMPTS`.
    """


@dataclass(frozen=True)
class OutboxJob:
    """One kind of background work: the Celery task that runs it and what it does with the payload."""

    kind: str
    task_name: str
    handler: Callable[[dict], object]
    on_failed: Callable[[dict], object] | None = None

    @property
    def task(self):
        from celery import current_app

        return current_app.tasks[self.task_name]


# kind (stored on the row) -> its job; filled by `@outbox_task` in the apps' tasks.py.
JOBS: dict[str, OutboxJob] = {}


def outbox_task(kind: str, *, name: str, on_failed: Callable[[dict], object] | None = None, **options):
    """Declare the named Celery task that performs outbox rows of `kind` (in an app's `tasks.py`).

    The decorated function receives the row's payload (secrets merged in). The Celery task it
    becomes is called with the row's id: it claims the row, runs the function with a heartbeat and
    records the outcome (`outbox_process_message`). `on_failed(payload)` runs once when the row has
    failed for good. `options` are passed to `shared_task` (e.g. `queue=`; prefer
    `CELERY_TASK_ROUTES` in settings).
    """

    def declare(handler: Callable[[dict], object]):
        if kind in JOBS and JOBS[kind].task_name != name:
            raise ValueError(f"Outbox kind {kind!r} already runs as {JOBS[kind].task_name!r}")
        JOBS[kind] = OutboxJob(kind=kind, task_name=name, handler=handler, on_failed=on_failed)

        def run(message_id: int) -> str:
            return outbox_process_message(message_id=message_id)

        run.__name__, run.__qualname__, run.__module__ = handler.__name__, handler.__qualname__, handler.__module__
        run.__doc__ = handler.__doc__
        return shared_task(name=name, acks_late=True, **options)(run)

    return declare


def outbox_enqueue(
    *, kind: str, payload: dict, dedupe_key: str | None = None, secrets: dict | None = None
) -> OutboxMessage:
    """Store a message and publish its task after the surrounding transaction commits.

    `secrets` (merged into the payload the handler receives) are kept only until the row has run:
    put every token, password or link containing one there, never in `payload`.
    """
    fields = {"kind": kind, "payload": payload, "secret_payload": secrets or {}}
    if dedupe_key:
        message, created = OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
        if not created:
            return message
    else:
        message = OutboxMessage.objects.create(**fields)
    transaction.on_commit(lambda: outbox_publish(message_id=message.pk, kind=kind))
    return message


def outbox_publish(*, message_id: int, kind: str | None = None) -> bool:
    """Publish the row's own named task (the relay); a broker failure is logged, never raised.

    `kind` saves a query when the caller knows it. A row whose kind has no declared task fails at
    once (recorded on the row); a broker error leaves it pending for the sweeper.
    """
    if kind is None:
        kind = OutboxMessage.objects.filter(pk=message_id).values_list("kind", flat=True).first()
        if kind is None:
            return False
    job = JOBS.get(kind)
    if job is None:
        logger.error("Outbox message %s: no task is declared for kind %r", message_id, kind)
        OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.FAILED,
            done_at=timezone.now(),
            secret_payload={},
            last_error=f"No outbox task is declared for {kind!r}",
        )
        return False
    try:
        job.task.apply_async(args=[message_id], retry=False)
        return True
    except Exception:  # noqa: BLE001 - any broker error: the row stays pending
        logger.warning("Could not publish outbox message %s; the sweeper will retry", message_id, exc_info=True)
        return False


class _Heartbeat:
    """Refreshes `heartbeat_at` of one claimed row from a thread while its handler runs.

    The UPDATE is fenced by the claim (`attempts`), so a worker whose row was released and taken
    over cannot keep the new owner's row alive. The thread uses its own database connection and
    closes it; a short handler finishes before the first beat and opens none.
    """

    def __init__(self, message_id: int, attempt: int):
        self.message_id, self.attempt = message_id, attempt
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"outbox-heartbeat-{message_id}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        interval = float(settings.OUTBOX_HEARTBEAT_SECONDS)
        try:
            while not self.stopped.wait(interval):
                try:
                    OutboxMessage.objects.filter(
                        pk=self.message_id, status=OutboxMessage.Status.PROCESSING, attempts=self.attempt
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 - a missed beat is harmless; the next one retries
                    logger.warning("Outbox heartbeat of message %s failed", self.message_id, exc_info=True)
                    close_old_connections()
        finally:
            connections.close_all()


def outbox_process_message(*, message_id: int) -> str:
    """Claim one row and run its job's handler (called by the job's named task). Returns the status.

    Claiming is a conditional UPDATE, so two workers given the same id run the handler once; every
    later write is fenced by the claim (`attempts`), so a worker whose row was released as stale
    and re-claimed by another cannot overwrite the new owner's result.

    Outcomes: `RetryLater` → pending again after its `delay` (or the backoff), one log line;
    `PermanentError` (or a kind without a job) → failed at once; any other exception → logged with
    its traceback and pending again after the backoff (5 s · 2^attempt, at most an hour). Retries
    end after `OUTBOX_MAX_ATTEMPTS`: the row fails and the job's `on_failed` runs once.
    """
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxMessage.Status.PENDING, available_at__lte=now
    ).update(status=OutboxMessage.Status.PROCESSING, claimed_at=now, heartbeat_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    mine = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxMessage.Status.PROCESSING, attempts=message.attempts
    )
    job = JOBS.get(message.kind)
    payload = {**message.payload, **message.secret_payload}
    try:
        if job is None:
            raise PermanentError(f"No outbox task is declared for {message.kind!r}")
        with _Heartbeat(message_id, message.attempts):
            job.handler(payload)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the row
        exhausted = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        failed = isinstance(error, PermanentError) or exhausted
        delay = timedelta(seconds=min(2**message.attempts * 5, 3600))
        if isinstance(error, RetryLater) and error.delay is not None:
            delay = error.delay
        changes = {"last_error": repr(error)[:2000], "available_at": timezone.now() + delay}
        if failed:
            changes.update(status=OutboxMessage.Status.FAILED, done_at=timezone.now(), secret_payload={})
        else:
            changes.update(status=OutboxMessage.Status.PENDING)
        if not mine.update(**changes):
            return "skipped"  # released as stale and taken over meanwhile: the new owner decides
        _log_failure(message, error, failed=failed, delay=delay)
        if failed and job is not None and job.on_failed is not None:
            job.on_failed(payload)
        return OutboxMessage.Status.FAILED if failed else OutboxMessage.Status.PENDING
    mine.update(status=OutboxMessage.Status.DONE, done_at=timezone.now(), secret_payload={})
    return OutboxMessage.Status.DONE


def _log_failure(message: OutboxMessage, error: Exception, *, failed: bool, delay: timedelta) -> None:
    """Expected failures are one line; an unexpected exception is logged with its traceback."""
    outcome = "failed for good" if failed else f"retried in {delay.total_seconds():g} s"
    args = (message.pk, message.kind, message.attempts, outcome, error)
    if isinstance(error, RetryLater | PermanentError):
        logger.log(logging.ERROR if failed else logging.INFO, "Outbox message %s (%s), attempt %s, %s: %s", *args)
    else:
        logger.error("Outbox message %s (%s), attempt %s, %s: %r", *args, exc_info=error)


def outbox_release_stale(*, now=None) -> int:
    """Put rows back to pending whose worker stopped beating (died). Returns how many.

    A conditional UPDATE on the heartbeat: a row that is still beating is never released, and a
    released row is claimed again by exactly one worker.
    """
    now = now or timezone.now()
    stale_before = now - settings.OUTBOX_STALE_AFTER
    return (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PROCESSING)
        .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, claimed_at__lt=stale_before))
        .update(status=OutboxMessage.Status.PENDING, available_at=now)
    )


def outbox_sweep_due(*, limit: int = 500) -> int:
    """Release rows of dead workers and re-publish pending rows that are due. Returns the count."""
    now = timezone.now()
    outbox_release_stale(now=now)
    due = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, available_at__lte=now)
        .order_by("available_at")
        .values_list("pk", "kind")[:limit]
    )
    for message_id, kind in due:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            outbox_process_message(message_id=message_id)
        else:
            outbox_publish(message_id=message_id, kind=kind)
    return len(due)


def outbox_purge_finished(*, now=None, batch: int = 5000) -> int:
    """Delete done and failed rows older than `OUTBOX_RETENTION_DAYS` (beat, daily). Returns the count.

    Pending and processing rows are never touched. A dedupe key protects against a second
    enqueue only while its row exists, i.e. for the retention period.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(
            OutboxMessage.objects.filter(status__in=FINISHED)
            # rows failed before `done_at` was set on failures: their age is their creation
            .filter(Q(done_at__lt=cutoff) | Q(done_at__isnull=True, created_at__lt=cutoff))
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return deleted
        deleted += OutboxMessage.objects.filter(pk__in=ids, status__in=FINISHED).delete()[0]
