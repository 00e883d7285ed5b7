"""The outbox: background work stored as rows and executed by Celery (PLT-3).

Use `outbox_enqueue(kind=…, payload=…)` inside the service's transaction. The row commits with
the business change; only after the commit is the Celery task published. If Redis is down at that
moment the row simply stays pending and the sweeper (`portal.tasks.outbox_sweep`, on beat every
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
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[dict], None]] = {}
FAILURE_HANDLERS: dict[str, Callable[[dict], None]] = {}
FINISHED = (OutboxMessage.Status.DONE, OutboxMessage.Status.FAILED)


class RetryLater(Exception):
    """Raised by a handler for a temporary failure: the row is retried with backoff."""


class PermanentError(Exception):
    """Raised by a handler for a failure that no retry can fix: the row fails at once.

    Any other exception is treated as temporary (a database hiccup, a timeout) and retried
    until `OUTBOX_MAX_ATTEMPTS`.
    """


def outbox_handler(kind: str):
    """Register the function that performs outbox messages of `kind`."""

    def register(func: Callable[[dict], None]):
        HANDLERS[kind] = func
        return func

    return register


def outbox_failure_handler(kind: str):
    """Register what happens when a message of `kind` has failed for good (e.g. delivery_failed)."""

    def register(func: Callable[[dict], None]):
        FAILURE_HANDLERS[kind] = func
        return func

    return register


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
    transaction.on_commit(lambda: outbox_publish(message_id=message.pk))
    return message


def outbox_publish(*, message_id: int) -> bool:
    """Publish the Celery task for a row; a broker failure is logged, never raised (sweeper retries)."""
    from .tasks import outbox_process

    try:
        outbox_process.apply_async(args=[message_id], retry=False)
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
    """Claim one row and run its handler. Returns the row's resulting status.

    Claiming is a conditional UPDATE, so two workers given the same id run the handler once; every
    later write is fenced by the claim (`attempts`), so a worker whose row was released as stale
    and re-claimed by another cannot overwrite the new owner's result. A `RetryLater` or any
    unexpected error retries with backoff; `PermanentError` (or an unknown kind) fails at once.
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
    handler = HANDLERS.get(message.kind)
    payload = {**message.payload, **message.secret_payload}
    try:
        if handler is None:
            raise PermanentError(f"No outbox handler for {message.kind!r}")
        with _Heartbeat(message_id, message.attempts):
            handler(payload)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the row
        permanent = isinstance(error, PermanentError)
        exhausted = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        failed = permanent or exhausted
        delay = timedelta(seconds=min(2**message.attempts * 5, 3600))
        changes = {"last_error": repr(error)[:2000], "available_at": timezone.now() + delay}
        if failed:
            changes.update(status=OutboxMessage.Status.FAILED, done_at=timezone.now(), secret_payload={})
        else:
            changes.update(status=OutboxMessage.Status.PENDING)
        if not mine.update(**changes):
            return "skipped"  # released as stale and taken over meanwhile: the new owner decides
        on_failure = FAILURE_HANDLERS.get(message.kind)
        if failed and on_failure:
            on_failure(payload)
        logger.warning("Outbox message %s (%s) failed: %r", message_id, message.kind, error)
        return OutboxMessage.Status.FAILED if failed else OutboxMessage.Status.PENDING
    mine.update(status=OutboxMessage.Status.DONE, done_at=timezone.now(), secret_payload={})
    return OutboxMessage.Status.DONE


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
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            outbox_process_message(message_id=message_id)
        else:
            outbox_publish(message_id=message_id)
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
