"""Issue 11 item 8 (DNS rebinding: the checked address is the one connected to) and issue 14 item 6
(a webhook is recorded before it is posted; a repeat carries the same delivery id and only follows
a timeout). Real HTTP(S) servers on 127.0.0.1 and real worker processes; DNS answers are faked by
replacing `socket.getaddrinfo` (DNS is not our infrastructure)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from offers import services
from offers.models import Offer, WebhookEndpoint
from offers.webhooks import DELIVERY_HEADER, WebhookFailed, webhook_post
from portal.models import OutboxMessage
from portal.outbox import RetryLater
from tests.harness import WorkerProcess
from tests.test_outbox import wait_for

from .test_delivery import send

pytestmark = pytest.mark.django_db
REAL_GETADDRINFO = socket.getaddrinfo


class FakeDNS:
    """Answers for made-up host names, one answer per lookup (the last one repeats)."""

    def __init__(self, monkeypatch, **names: list[str]):
        self.answers = {name.replace("_", "-") + ".test": list(ips) for name, ips in names.items()}
        self.lookups: list[str] = []
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if host not in self.answers:
            return REAL_GETADDRINFO(host, port, family, type, proto, flags)
        self.lookups.append(host)
        ips = self.answers[host]
        ip = ips.pop(0) if len(ips) > 1 else ips[0]
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        sockaddr = (ip, port, 0, 0) if family == socket.AF_INET6 else (ip, port)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


def post(url):
    return webhook_post(url=url, secret="s" * 20, event="offer.test", delivery_id="d-1", payload={"a": 1})


# --- 11.8: DNS rebinding ----------------------------------------------------------------------------


def test_11_8_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_it(receiver, settings, monkeypatch):
    settings.OFFER_WEBHOOK_ALLOW_PRIVATE = False
    settings.OFFER_WEBHOOK_TIMEOUT_SECONDS = 1
    port = receiver.server.server_address[1]
    # first answer public (passes the check), every later one the portal's own loopback
    dns = FakeDNS(monkeypatch, rebind=["1.1.1.1", "127.0.0.1"])
    with pytest.raises(WebhookFailed):
        post(f"http://rebind.test:{port}/hooks/offers")  # went to 1.1.1.1, which does not answer in time
    assert receiver.requests == []
    assert dns.lookups == ["rebind.test"]  # resolved once: checked and connected to the same address


@pytest.mark.parametrize("ip", ["127.0.0.1", "::ffff:127.0.0.1", "10.1.2.3", "169.254.169.254"])
def test_11_8_a_local_receiver_is_refused_without_the_allowance(receiver, settings, monkeypatch, ip):
    settings.OFFER_WEBHOOK_ALLOW_PRIVATE = False
    FakeDNS(monkeypatch, internal=[ip])
    with pytest.raises(WebhookFailed, match="non-public"):
        post(f"http://internal.test:{receiver.server.server_address[1]}/hooks/offers")
    assert receiver.requests == []


def test_11_8_an_allowed_receiver_gets_the_request_with_its_own_host_name(receiver, settings, monkeypatch):
    settings.OFFER_WEBHOOK_ALLOW_PRIVATE = True
    FakeDNS(monkeypatch, hooks_customer=["127.0.0.1"])
    port = receiver.server.server_address[1]
    assert post(f"http://hooks-customer.test:{port}/hooks/offers?x=1") == 200
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks-customer.test:{port}"
    assert request.headers[DELIVERY_HEADER] == "d-1"


@pytest.fixture
def tls_receiver():
    """An HTTPS server on 127.0.0.1 with a certificate for `secure-hooks.test` from a test CA."""
    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("secure-hooks.test")
    hosts = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, authority, hosts
    server.shutdown()
    server.server_close()


def test_11_8_https_to_the_pinned_address_still_checks_the_certificate_for_the_host_name(
    tls_receiver, settings, monkeypatch
):
    server, authority, hosts = tls_receiver
    settings.OFFER_WEBHOOK_ALLOW_PRIVATE = True
    port = server.server_address[1]
    FakeDNS(monkeypatch, secure_hooks=["127.0.0.1"], other_name=["127.0.0.1"])
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    monkeypatch.setattr(ssl, "create_default_context", lambda *args, **kwargs: trusting)
    assert post(f"https://secure-hooks.test:{port}/in") == 204  # SNI and certificate match the name
    assert hosts == [f"secure-hooks.test:{port}"]
    with pytest.raises(WebhookFailed):  # same address, but the certificate is not for this name
        post(f"https://other-name.test:{port}/in")
    assert len(hosts) == 1


# --- 14.6: a webhook posted twice --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_14_6_the_attempt_and_its_delivery_id_are_recorded_before_the_post(transactional_db, world, webhook, receiver):
    seen_during_post = []
    original = receiver.server.RequestHandlerClass.do_POST

    def do_post(handler):
        # the receiver looks at the portal's database while the request is in flight (own connection)
        from django.db import connections

        try:
            seen_during_post.append(Offer.objects.values_list("webhook_attempted_at", "webhook_delivery_id").get())
        finally:
            connections.close_all()
        original(handler)

    monkey = receiver.server.RequestHandlerClass
    monkey.do_POST = do_post
    try:
        offer = send(world)  # autocommit here: the (eager) delivery runs at once
    finally:
        monkey.do_POST = original
    [request] = receiver.requests
    offer.refresh_from_db()
    assert offer.webhook_delivery_id == request.headers[DELIVERY_HEADER] == f"offer-{offer.pk}-1"
    assert offer.webhook_attempted_at is not None and offer.webhook_delivered_at is not None
    # committed before the request left: a worker dying now leaves a trace with the id it used
    [(attempted_at, delivery_id)] = seen_during_post
    assert attempted_at is not None and delivery_id == f"offer-{offer.pk}-1"


def test_14_6_a_repeat_waits_while_a_post_may_be_in_flight_and_then_uses_the_same_delivery_id(
    world, webhook, receiver, settings
):
    settings.OFFER_WEBHOOK_TIMEOUT_SECONDS = 10
    offer = send(world)
    # another run recorded its attempt a moment ago and may still be posting (or died posting)
    Offer.objects.filter(pk=offer.pk).update(
        webhook_attempted_at=timezone.now() - timedelta(seconds=3), webhook_delivery_id=f"offer-{offer.pk}-1"
    )
    with pytest.raises(RetryLater):
        services.offer_deliver(offer_id=offer.pk)
    assert receiver.requests == []
    # once the request timeout has surely passed, the repeat goes out – with the same id
    Offer.objects.filter(pk=offer.pk).update(webhook_attempted_at=timezone.now() - timedelta(seconds=16))
    assert services.offer_deliver(offer_id=offer.pk) == "delivered"
    [request] = receiver.requests
    assert request.headers[DELIVERY_HEADER] == f"offer-{offer.pk}-1"


class HoldingReceiver:
    """Records POSTs; holds the first one without answering (the worker dies waiting)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(dict(self.headers.items()))
                if len(receiver.requests) == 1:
                    receiver.release.wait(60)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/offers"

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_14_6_and_14_7_a_worker_killed_while_posting_is_replaced_and_the_repeat_has_the_same_id(
    transactional_db, world, settings
):
    """A real `celery worker` process is SIGKILLed while its POST is in flight. A second worker takes
    the row over on start (heartbeat gone stale, `worker_ready` sweep) and posts again once the
    request timeout has passed, with the same `X-Portal-Delivery`; the offer is delivered once."""
    from portal.celery import app

    # this process only publishes (after the commit) to the real broker; the worker processes run the tasks
    previous_eager = app.conf.task_always_eager
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = False
    holding = HoldingReceiver()
    WebhookEndpoint.objects.create(organization=world.customer, url=holding.url, secret="s3cret-for-signing-42")
    timings = {
        "OUTBOX_HEARTBEAT_SECONDS": "0.3",
        "OUTBOX_STALE_AFTER_SECONDS": "2",
        "OFFER_WEBHOOK_TIMEOUT_SECONDS": "1",
    }
    first = WorkerProcess(**timings).start()
    second = WorkerProcess(**timings)
    try:
        with transaction.atomic():
            offer = send(world)
        assert wait_for(lambda: len(holding.requests) == 1, timeout=60), first.output()
        row = OutboxMessage.objects.get(kind=services.DELIVER_KIND, payload__offer_id=offer.pk)
        recorded = Offer.objects.get(pk=offer.pk)
        assert recorded.webhook_delivery_id == holding.requests[0][DELIVERY_HEADER]
        assert wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).heartbeat_at > row.claimed_at, timeout=10)
        first.kill()  # between the POST and recording its success
        assert OutboxMessage.objects.get(pk=row.pk).status == OutboxMessage.Status.PROCESSING
        # the repeat may only follow the request timeout (+5 s) after the recorded attempt
        time.sleep(max(0.0, (recorded.webhook_attempted_at + timedelta(seconds=6) - timezone.now()).total_seconds()))
        second.start()
        assert wait_for(
            lambda: Offer.objects.get(pk=offer.pk).status == Offer.Status.WAITING_FOR_CONFIRMATION, timeout=60
        ), second.output()
        assert len(holding.requests) == 2
        assert holding.requests[1][DELIVERY_HEADER] == holding.requests[0][DELIVERY_HEADER] == f"offer-{offer.pk}-1"
        # the worker records the row's outcome after the job's own commit: a moment later
        assert wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).status == OutboxMessage.Status.DONE, timeout=10), (
            second.output()
        )
        row.refresh_from_db()
        assert row.attempts == 2
        # one notification email row per customer manager, not two
        assert OutboxMessage.objects.filter(kind="email.send").count() == 2
    finally:
        first.kill()
        second.kill()
        holding.stop()
        app.conf.task_always_eager = previous_eager
