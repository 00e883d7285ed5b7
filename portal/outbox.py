"""The outbox: background work stored as rows and executed by Celery (PLT-3).

Use `outbox_enqueue(kind=…, payload=…)` inside the service's transaction. The row commits with
the business change; only after the commit is the Celery task published. If Redis is down at that
moment the row simply stays pending and the sweeper (`portal.tasks.outbox_sweep`, on beat every
minute) publishes it later. Handlers must be idempotent: a row may in rare cases run twice
(a worker dying between the side effect and marking the row done).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[dict], None]] = {}


class RetryLater(Exception):
    """Raised by a handler for a temporary failure: the row is retried with backoff."""


def outbox_handler(kind: str):
    """Register the function that performs outbox messages of `kind`."""

    def register(func: Callable[[dict], None]):
        HANDLERS[kind] = func
        return func

    return register


def outbox_enqueue(*, kind: str, payload: dict, dedupe_key: str | None = None) -> OutboxMessage:
    """Store a message and publish its task after the surrounding transaction commits."""
    if dedupe_key:
        message, created = OutboxMessage.objects.get_or_create(
            dedupe_key=dedupe_key, defaults={"kind": kind, "payload": payload}
        )
        if not created:
            return message
    else:
        message = OutboxMessage.objects.create(kind=kind, payload=payload)
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


def outbox_process_message(*, message_id: int) -> str:
    """Claim one row and run its handler. Returns the row's resulting status.

    Claiming is a conditional UPDATE, so two workers given the same id run the handler once.
    """
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxMessage.Status.PENDING, available_at__lte=now
    ).update(status=OutboxMessage.Status.PROCESSING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    handler = HANDLERS.get(message.kind)
    try:
        if handler is None:
            raise LookupError(f"No outbox handler for {message.kind!r}")
        handler(message.payload)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the row
        permanent = not isinstance(error, RetryLater) and handler is None
        exhausted = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        status = OutboxMessage.Status.FAILED if (permanent or exhausted) else OutboxMessage.Status.PENDING
        delay = timedelta(seconds=min(2 ** message.attempts * 5, 3600))
        OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PROCESSING).update(
            status=status, last_error=repr(error)[:2000], available_at=timezone.now() + delay
        )
        on_failure = FAILURE_HANDLERS.get(message.kind)
        if status == OutboxMessage.Status.FAILED and on_failure:
            on_failure(message.payload)
        logger.warning("Outbox message %s (%s) failed: %r", message_id, message.kind, error)
        return status
    OutboxMessage.objects.filter(pk=message_id).update(status=OutboxMessage.Status.DONE, done_at=timezone.now())
    return OutboxMessage.Status.DONE


FAILURE_HANDLERS: dict[str, Callable[[dict], None]] = {}


def outbox_failure_handler(kind: str):
    """Register what happens when a message of `kind` has failed for good (e.g. delivery_failed)."""

    def register(func: Callable[[dict], None]):
        FAILURE_HANDLERS[kind] = func
        return func

    return register


def outbox_sweep_due(*, limit: int = 500) -> int:
    """Re-publish pending rows that are due and release rows stuck in processing. Returns the count."""
    now = timezone.now()
    stuck_before = now - settings.OUTBOX_STUCK_AFTER
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PROCESSING, claimed_at__lt=stuck_before).update(
        status=OutboxMessage.Status.PENDING
    )
    due = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, available_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stuck_before) | Q(attempts__gt=0))
        .order_by("available_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            outbox_process_message(message_id=message_id)
        else:
            outbox_publish(message_id=message_id)
    return len(due)
