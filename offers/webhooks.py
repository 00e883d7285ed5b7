"""Signed webhooks for customers (OFR-4).

Each POST carries
- `X-Portal-Timestamp`: Unix seconds when it was signed,
- `X-Portal-Signature`: `sha256=` + hex HMAC-SHA256, keyed with the customer's secret, of
  `"{timestamp}.{raw body}"` – the timestamp is inside the signed text, so it cannot be changed
  to replay an old delivery,
- `X-Portal-Event` (e.g. `offer.waiting_for_confirmation`) and `X-Portal-Delivery` (unique per
  delivery round; a receiver can drop repeats of the same id).

A receiver verifies with `webhook_verify` below (or the few lines in the README).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

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
    *, secret: str, body: bytes, signature: str, timestamp: str, tolerance: int = DEFAULT_TOLERANCE_SECONDS,
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


def _refuse_internal_addresses(url: str) -> None:
    """Customers choose the URL: never let it reach the portal's own network (SSRF).

    Every address the host name resolves to must be public, unless `OFFER_WEBHOOK_ALLOW_PRIVATE`
    (development and the tests' local receiver). Checked at every delivery, not only when saved.
    """
    if getattr(settings, "OFFER_WEBHOOK_ALLOW_PRIVATE", settings.DEBUG):
        return
    parsed = urllib.parse.urlsplit(url)
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError, TypeError) as error:
        raise WebhookFailed(f"{url}: cannot resolve host ({error})") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise WebhookFailed(f"{url}: refusing a non-public address ({address})")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (it could lead past the address check): it counts as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def webhook_post(*, url: str, secret: str, event: str, delivery_id: str, payload: dict) -> int:
    """POST `payload` signed; returns the status code or raises `WebhookFailed`."""
    _refuse_internal_addresses(url)
    body = webhook_body(payload)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ResellerPortal-Webhook/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=body),
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery_id,
        },
    )
    timeout = getattr(settings, "OFFER_WEBHOOK_TIMEOUT_SECONDS", 10)
    try:
        with _OPENER.open(request, timeout=timeout) as response:  # http(s) only, checked when saved
            status = response.status
    except urllib.error.HTTPError as error:
        raise WebhookFailed(f"HTTP {error.code} from {url}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise WebhookFailed(f"{url}: {error}") from error
    if not 200 <= status < 300:
        raise WebhookFailed(f"HTTP {status} from {url}")
    return status
