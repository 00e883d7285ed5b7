"""Issue 11 item 7 (lockout by account *and* address, a higher limit per address, JSON answers on the
API) and issue 14 item 4 (the token endpoint keeps working while the throttle cache is down)."""

from __future__ import annotations

import logging
import uuid

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
LOGIN_URL = "/accounts/login/"


def address() -> str:
    """A fresh client address per test: throttle history in Redis outlives a test's database."""
    value = uuid.uuid4().int
    return f"10.{value % 250}.{(value >> 8) % 250}.{(value >> 16) % 250 + 1}"


def login(client, email, password, ip, **extra):
    return client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def token(api_client, email, password, ip):
    return api_client.post(TOKEN_URL, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# --- 11.7: lockout by the combination of account and address ---------------------------------------


def test_11_7_failures_for_made_up_names_do_not_lock_out_others_behind_the_same_address(client):
    UserFactory(email="colleague@example.com")
    office = address()
    for number in range(6):
        login(client, f"nobody{number}@example.com", "wrong", office)
    response = login(client, "colleague@example.com", PASSWORD, office)
    assert response.status_code == 302  # logged in, not locked out


def test_11_7_an_account_is_locked_for_the_failing_address_only(client):
    UserFactory(email="lisa@example.com")
    attacker, home = address(), address()
    for _ in range(5):
        login(client, "lisa@example.com", "wrong", attacker)
    assert login(client, "LISA@example.com", PASSWORD, attacker).status_code == 429  # case does not matter
    assert login(client, "lisa@example.com", PASSWORD, home).status_code == 302


def test_11_7_many_failures_from_one_address_lock_that_address(client, settings):
    settings.AXES_IP_FAILURE_LIMIT = 8
    UserFactory(email="victim@example.com")
    sprayer, elsewhere = address(), address()
    for number in range(7):
        login(client, f"guess{number}@example.com", "Summer2026!", sprayer)
    assert login(client, "victim@example.com", PASSWORD, sprayer).status_code == 302  # below the address limit
    client.logout()
    login(client, "guess7@example.com", "Summer2026!", sprayer)  # the eighth failure from this address
    assert login(client, "victim@example.com", PASSWORD, sprayer).status_code == 429
    client.logout()
    assert login(client, "victim@example.com", PASSWORD, elsewhere).status_code == 302


def test_11_7_the_browser_gets_a_friendly_page_in_german(client):
    UserFactory(email="de@example.com")
    ip = address()
    for _ in range(5):
        login(client, "de@example.com", "wrong", ip)
    response = login(client, "de@example.com", PASSWORD, ip, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 429 and int(response["Retry-After"]) == 15 * 60
    html = response.content.decode()
    assert "Zu viele Versuche" in html and "Versuchen Sie es in 15 Minuten erneut" in html


def test_11_7_the_token_endpoint_answers_a_lockout_with_the_api_error_shape(api_client):
    UserFactory(email="api@example.com")
    ip, other = address(), address()
    for _ in range(4):
        assert_error(token(api_client, "api@example.com", "wrong", ip), 400, "invalid_credentials")
    assert_error(token(api_client, "api@example.com", "wrong", ip), 429, "locked_out")  # the fifth failure locks
    response = token(api_client, "api@example.com", PASSWORD, ip)
    error = assert_error(response, 429, "locked_out")
    assert int(response["Retry-After"]) == 15 * 60 and "15" in error["message"]
    assert token(api_client, "api@example.com", PASSWORD, other).status_code == 200


def test_11_7_the_token_endpoint_answers_throttling_with_the_api_error_shape(api_client):
    ip = address()
    for number in range(20):  # the `token` rate: 20/min; made-up names, so no lockout interferes
        assert token(api_client, f"n{number}@example.com", "wrong", ip).status_code == 400
    response = token(api_client, "n20@example.com", "wrong", ip)
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


# --- 14.4: the token endpoint while Redis is down --------------------------------------------------


@pytest.fixture
def cache_down(settings):
    """The default cache points at a port where nothing listens: every call is refused for real."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    from django.core.cache import cache

    with pytest.raises(Exception):  # noqa: B017 - proves the cache is really unreachable
        cache.get("anything")
    return port


def test_14_4_the_token_endpoint_works_while_the_throttle_cache_is_down(api_client, cache_down, caplog):
    UserFactory(email="outage@example.com")
    ip = address()
    with caplog.at_level(logging.WARNING, logger="portal.api.throttling"):
        assert token(api_client, "outage@example.com", PASSWORD, ip).status_code == 200
        assert_error(token(api_client, "outage@example.com", "wrong", ip), 400, "invalid_credentials")
    assert "cache unavailable" in caplog.text  # failing open is logged, not silent


def test_14_4_every_throttled_view_uses_the_fail_open_base():
    """One base class: a throttle added later without it would turn a Redis outage into 500s."""
    from django.urls import get_resolver
    from rest_framework.views import APIView

    from portal.api.throttling import FailOpenThrottleMixin

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield getattr(pattern.callback, "cls", None)

    throttled = [
        view
        for view in views(get_resolver().url_patterns)
        if isinstance(view, type) and issubclass(view, APIView) and view.throttle_classes
    ]
    assert throttled  # at least the token endpoint
    for view in throttled:
        for throttle in view.throttle_classes:
            assert issubclass(throttle, FailOpenThrottleMixin), (view, throttle)
