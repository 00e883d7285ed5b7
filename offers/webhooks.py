"""Signed webhooks for customers (OFR-4).

Each POST carries
- `X-Portal-Timestamp`: Unix seconds when it was signed,
- `X-Portal-Signature`: `sha256=` + hex HMAC-SHA256, keyed with the customer's secret, of
  `"{timestamp}.{raw body}"` – the timestamp is inside the signed text, so it cannot be changed
  to replay an old delivery,
- `X-Portal-Event` (e.g. `offer.waiting_for_confirmation`) and `X-Portal-Delivery` (one id per
  offer and delivery round, the same on every repeat).

Delivery is at-least-once: the same delivery may arrive more than once (a worker that died after
posting, a receiver that answered too late); receivers drop repeats by `X-Portal-Delivery`.

A receiver verifies with `webhook_verify` below (or the few lines in the README).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.parse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

SIGNATURE_HEADER = "X-Portal-Signature"
TIMESTAMP_HEADER = "X-Portal-Timestamp"
EVENT_HEADER = "X-Portal-Event"
DELIVERY_HEADER = "X-Portal-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookFailed(Exception):
    """The receiver did not answer 2xx in time; delivery is retried with backoff."""


def webhook_signature(*, secret: str, timestamp: int | str, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_verify(
    *,
    secret: str,
    body: bytes,
    signature: str,
    timestamp: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True if `signature` is ours for `body` and `timestamp` is recent (replay protection)."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    if age > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, signature or "")


def webhook_body(payload: dict) -> bytes:
    return json.dumps(payload, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever Python's version says
    return address.is_global


def _resolve_checked(url: str) -> tuple[urllib.parse.SplitResult, str]:
    """Resolve the URL's host once and return the address to connect to (SSRF guard).

    Customers choose the URL: it must never reach the portal's own network. Every address the host
    resolves to must be public, unless `OFFER_WEBHOOK_ALLOW_PRIVATE` (development and the tests'
    local receiver). The request then goes to exactly this address (pinned), so a DNS answer that
    changes between the check and the connection (DNS rebinding) cannot redirect it. Checked at
    every delivery, not only when saved.
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise WebhookFailed(f"{url}: not an http(s) URL")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        infos = socket.getaddrinfo(parsed.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, TypeError, ValueError) as error:
        raise WebhookFailed(f"{url}: cannot resolve host ({error})") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise WebhookFailed(f"{url}: cannot resolve host")
    if not getattr(settings, "OFFER_WEBHOOK_ALLOW_PRIVATE", settings.DEBUG):
        for address in addresses:
            if not _is_public(address):
                raise WebhookFailed(f"{url}: refusing a non-public address ({address})")
    return parsed, str(addresses[0])


def _pinned_connection(parsed: urllib.parse.SplitResult, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `address` that otherwise behaves as one to the URL's host name.

    The Host header and, for https, the TLS server name (SNI) and the certificate check use the
    host name; only the TCP connection goes to the checked address.
    """
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if parsed.scheme == "https":
        connection = http.client.HTTPSConnection(
            parsed.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parsed.hostname, port, timeout=timeout)

    def connect_to_checked_address(_address, timeout=timeout, source_address=None, **kwargs):
        return socket.create_connection((address, port), timeout, source_address, **kwargs)

    connection._create_connection = connect_to_checked_address
    return connection


def webhook_post(*, url: str, secret: str, event: str, delivery_id: str, payload: dict) -> int:
    """POST `payload` signed; returns the status code or raises `WebhookFailed`.

    Redirects are not followed (they could lead past the address check): a 3xx is a failure.
    """
    parsed, address = _resolve_checked(url)
    body = webhook_body(payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ResellerPortal-Webhook/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=body),
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
    }
    path = parsed.path or "/"
    if parsed.query:
        path += "?" + parsed.query
    timeout = getattr(settings, "OFFER_WEBHOOK_TIMEOUT_SECONDS", 10)
    connection = _pinned_connection(parsed, address, timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise WebhookFailed(f"{url}: {error}") from error
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise WebhookFailed(f"HTTP {status} from {url}")
    return status
