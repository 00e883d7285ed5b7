"""Celery tasks of offers: thin wrappers around services, fed by the outbox (PLT-3)."""

from portal.outbox import outbox_task

from . import services


@outbox_task(services.DELIVER_KIND, name="offers.tasks.offer_deliver", on_failed=services.offer_delivery_failed)
def offer_deliver(payload: dict) -> None:
    """OFR-4: post the customer's webhook and show the offer; after the last attempt `delivery_failed`."""
    services.offer_deliver(offer_id=payload["offer_id"], round=payload.get("round"))


@outbox_task(services.BULK_SEND_KIND, name="offers.tasks.offer_bulk_send")
def offer_bulk_send(payload: dict) -> None:
    """Create and send the offers of one bulk send, in chunks (re-runs skip what exists)."""
    services.offer_bulk_send_process(bulk_send_id=payload["bulk_send_id"])
