"""OFR-4: delivery from an outbox row – notifications, emails, a signed webhook to a real local HTTP
server, then `waiting_for_confirmation`; retries with backoff end in `delivery_failed`; nothing is
lost while Redis is down; a real Celery worker delivers."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from offers import services
from offers.models import Offer, WebhookEndpoint
from offers.webhooks import webhook_signature, webhook_verify
from organizations.models import AuditEvent
from portal.celery import app
from portal.models import Notification, OutboxMessage
from portal.outbox import outbox_process_message, outbox_sweep_due

from . import factories as of

pytestmark = pytest.mark.django_db


def send(world, message="Hallo!"):
    return services.offer_send(
        context=of.context(world.partner_owner, world.partner),
        template=of.template(world.partner, products=world.products),
        customer=world.customer,
        message=message,
        actor=world.partner_owner,
    )


def delivery_rows(offer):
    return OutboxMessage.objects.filter(kind=services.DELIVER_KIND, payload__offer_id=offer.pk).order_by("id")


def process_emails():
    for row in OutboxMessage.objects.filter(kind="email.send", status=OutboxMessage.Status.PENDING):
        outbox_process_message(message_id=row.pk)


def test_delivery_notifies_managers_emails_posts_signed_webhook_then_waits(world, webhook, receiver):
    offer = send(world)
    assert offer.status == Offer.Status.WAITING
    assert outbox_process_message(message_id=delivery_rows(offer).get().pk) == OutboxMessage.Status.DONE
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WAITING_FOR_CONFIRMATION and offer.delivered_at and offer.webhook_delivered_at

    notified = set(Notification.objects.filter(kind="offers.received").values_list("recipient__email", flat=True))
    assert notified == {world.customer_owner.email, world.customer_admin.email}  # not Member, not Guest
    process_emails()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == notified
    assert "Neues Angebot von Partner GmbH" in by_recipient[world.customer_owner.email].subject  # owner reads German
    assert "New offer from Partner GmbH" in by_recipient[world.customer_admin.email].subject
    assert "Hallo!" in by_recipient[world.customer_owner.email].body

    [request] = receiver.requests
    assert webhook_verify(
        secret=webhook.secret,
        body=request.body,
        signature=request.headers["X-Portal-Signature"],
        timestamp=request.headers["X-Portal-Timestamp"],
    )
    payload = json.loads(request.body)
    assert payload["event"] == "offer.waiting_for_confirmation" and payload["offer"]["id"] == offer.pk
    assert "purchase" not in request.body.decode() and "list_price" not in request.body.decode()
    assert AuditEvent.objects.filter(action="offer.delivered", target_id=str(offer.pk)).count() == 2  # both trails


def test_delivery_task_run_twice_sends_one_email_per_recipient_and_one_webhook(world, webhook, receiver):
    offer = send(world)
    row = delivery_rows(offer).get()
    assert outbox_process_message(message_id=row.pk) == OutboxMessage.Status.DONE
    # The worker died after the side effects but before marking the row done: it runs again.
    OutboxMessage.objects.filter(pk=row.pk).update(status=OutboxMessage.Status.PENDING)
    assert outbox_process_message(message_id=row.pk) == OutboxMessage.Status.DONE
    assert services.offer_deliver(offer_id=offer.pk) == "skipped"  # and once more, directly
    process_emails()
    process_emails()
    assert len(receiver.requests) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.customer_owner.email, world.customer_admin.email])
    assert Notification.objects.filter(kind="offers.received").count() == 2


def test_without_a_webhook_delivery_only_notifies(world):
    offer = send(world)
    outbox_process_message(message_id=delivery_rows(offer).get().pk)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WAITING_FOR_CONFIRMATION and offer.webhook_delivered_at is None


def test_failing_webhook_retries_with_backoff_then_delivery_failed_and_partner_retries(
    world, webhook, receiver, settings, api_client
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    receiver.status = 500
    offer = send(world)
    row = delivery_rows(offer).get()
    assert outbox_process_message(message_id=row.pk) == OutboxMessage.Status.PENDING
    row.refresh_from_db()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WAITING and "HTTP 500" in offer.last_delivery_error
    assert row.available_at > timezone.now() + timedelta(seconds=5)  # backoff
    assert outbox_process_message(message_id=row.pk) == "skipped"  # not due yet
    for expected in (OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED):
        OutboxMessage.objects.filter(pk=row.pk).update(available_at=timezone.now())
        assert outbox_process_message(message_id=row.pk) == expected
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DELIVERY_FAILED
    assert len(receiver.requests) == 3
    assert Notification.objects.filter(kind="offers.delivery_failed", recipient=world.partner_owner).exists()
    assert AuditEvent.objects.filter(action="offer.delivery_failed", target_id=str(offer.pk)).exists()

    # The customer fixed its endpoint; the partner retries (API); a new round delivers.
    receiver.status = 200
    api_client.force_authenticate(world.partner_admin)
    response = api_client.post(f"/api/v1/organizations/{world.partner.public_id}/offers/{offer.pk}/retry/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "waiting" and response.json()["delivery_attempt"] == 2
    new_row = delivery_rows(offer).last()
    assert new_row.pk != row.pk
    assert outbox_process_message(message_id=new_row.pk) == OutboxMessage.Status.DONE
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WAITING_FOR_CONFIRMATION and offer.last_delivery_error == ""
    assert len(receiver.requests) == 4


def test_a_late_run_of_an_old_round_does_nothing(world, webhook, receiver):
    offer = send(world)
    Offer.objects.filter(pk=offer.pk).update(delivery_attempt=2)
    assert services.offer_deliver(offer_id=offer.pk, round=1) == "skipped"
    assert receiver.requests == []


def test_cancelled_while_waiting_is_not_delivered(world, webhook, receiver):
    offer = send(world)
    services.offer_cancel(
        offer=offer, context=of.context(world.partner_owner, world.partner), actor=world.partner_owner
    )
    outbox_process_message(message_id=delivery_rows(offer).get().pk)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.CANCELLED
    assert not Notification.objects.filter(kind="offers.received").exists()


class TestSignature:
    secret = "a-customer-secret-123"
    body = b'{"event":"offer.waiting_for_confirmation"}'

    def test_verifies(self):
        now = int(time.time())
        signature = webhook_signature(secret=self.secret, timestamp=now, body=self.body)
        assert signature.startswith("sha256=") and len(signature) == 7 + 64
        assert webhook_verify(secret=self.secret, body=self.body, signature=signature, timestamp=str(now))

    @pytest.mark.parametrize("change", ["body", "secret", "timestamp", "old", "garbage"])
    def test_refuses_anything_else(self, change):
        now = int(time.time())
        signature = webhook_signature(secret=self.secret, timestamp=now, body=self.body)
        kwargs = {"secret": self.secret, "body": self.body, "signature": signature, "timestamp": str(now)}
        if change == "body":
            kwargs["body"] = self.body.replace(b"offer", b"offfer")
        elif change == "secret":
            kwargs["secret"] = "another-secret-12345"
        elif change == "timestamp":
            kwargs["timestamp"] = str(now + 1)  # the timestamp is signed too
        elif change == "old":  # a replay ten minutes later, correctly signed for then
            old = now - 600
            kwargs.update(
                timestamp=str(old), signature=webhook_signature(secret=self.secret, timestamp=old, body=self.body)
            )
        else:
            kwargs["timestamp"] = "yesterday"
        assert not webhook_verify(**kwargs)

    def test_the_readme_recipe_matches(self):
        """The verification shown in the README, written out with the standard library only."""
        import hashlib
        import hmac

        now = str(int(time.time()))
        header = webhook_signature(secret=self.secret, timestamp=now, body=self.body)
        expected = (
            "sha256=" + hmac.new(self.secret.encode(), now.encode() + b"." + self.body, hashlib.sha256).hexdigest()
        )
        assert hmac.compare_digest(header, expected)


# --- through Redis and a real worker ------------------------------------------------------------------


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _reset_publisher_pools():
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_offer(world, webhook, receiver, celery_live_worker):
    with transaction.atomic():
        offer = send(world)
    assert wait_for(lambda: Offer.objects.get(pk=offer.pk).status == Offer.Status.WAITING_FOR_CONFIRMATION)
    assert wait_for(lambda: len(mail.outbox) == 2)
    assert len(receiver.requests) == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_redis_down_while_sending_loses_no_offer(world, webhook, receiver, celery_live_worker):
    good_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    _reset_publisher_pools()
    try:
        with transaction.atomic():
            offer = send(world)
        # The offer and its delivery row are committed; publishing failed quietly.
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.WAITING
        assert delivery_rows(offer).get().status == OutboxMessage.Status.PENDING
    finally:
        app.conf.broker_url = good_broker
        _reset_publisher_pools()
    assert receiver.requests == []
    assert outbox_sweep_due() >= 1  # Redis is back: the beat sweeper publishes the row
    assert wait_for(lambda: Offer.objects.get(pk=offer.pk).status == Offer.Status.WAITING_FOR_CONFIRMATION)
    assert wait_for(lambda: outbox_sweep_due() == 0 and len(mail.outbox) == 2)
    assert len(receiver.requests) == 1


def test_webhook_settings_keep_secret_write_only(world, api_client):
    api_client.force_authenticate(world.customer_admin)
    url = f"/api/v1/organizations/{world.customer.public_id}/offer-webhook/"
    assert api_client.get(url).json() == {"url": "", "is_active": False, "configured": False}
    assert (
        api_client.post(url, {"url": "https://hooks.example/offers", "secret": "short"}, format="json").status_code
        == 400
    )
    response = api_client.post(url, {"url": "https://hooks.example/offers", "secret": "x" * 20}, format="json")
    assert response.status_code == 200 and "secret" not in response.json()
    assert WebhookEndpoint.objects.get(organization=world.customer).secret == "x" * 20
    # a new URL without a secret keeps the stored secret
    api_client.post(url, {"url": "https://hooks.example/v2"}, format="json")
    endpoint = WebhookEndpoint.objects.get(organization=world.customer)
    assert (endpoint.url, endpoint.secret) == ("https://hooks.example/v2", "x" * 20)
    api_client.force_authenticate(world.customer_member)
    assert api_client.get(url).status_code == 403


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "https://10.0.0.8/hook", "https://[::1]/hook", "https://169.254.169.254/latest"]
)
def test_webhooks_never_reach_internal_addresses(world, settings, url):
    from offers.webhooks import WebhookFailed, webhook_post

    settings.OFFER_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(WebhookFailed, match="non-public"):
        webhook_post(url=url, secret="x" * 20, event="offer.test", delivery_id="1", payload={})


def test_plain_http_webhooks_are_refused_without_debug(world, settings):
    from portal.errors import InvalidInput

    settings.DEBUG = False
    with pytest.raises(InvalidInput):
        services.webhook_settings_save(
            context=of.context(world.customer_owner, world.customer),
            url="http://erp.example/hook",
            secret="y" * 20,
            actor=world.customer_owner,
        )


def test_redirects_are_not_followed(world, receiver):
    from offers.webhooks import WebhookFailed, webhook_post

    receiver.status = 302
    with pytest.raises(WebhookFailed, match="HTTP 302"):
        webhook_post(url=receiver.url, secret="x" * 20, event="offer.test", delivery_id="1", payload={})
    assert len(receiver.requests) == 1  # the redirect target was never requested
