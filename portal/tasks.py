"""Celery tasks of the portal: thin wrappers that call services."""

from celery import shared_task

from .outbox import outbox_process_message, outbox_purge_finished, outbox_sweep_due


@shared_task(name="portal.tasks.outbox_process", acks_late=True)
def outbox_process(message_id: int) -> str:
    return outbox_process_message(message_id=message_id)


@shared_task(name="portal.tasks.outbox_sweep")
def outbox_sweep() -> int:
    return outbox_sweep_due()


@shared_task(name="portal.tasks.outbox_purge")
def outbox_purge() -> int:
    return outbox_purge_finished()
