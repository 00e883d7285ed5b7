from unittest import mock

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_ok_with_database_and_redis(client, settings):
    settings.REDIS_URL = __import__("os").environ["REDIS_URL"]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_503_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "error"}


def test_healthz_503_when_database_fails(client, settings):
    settings.REDIS_URL = ""
    with mock.patch("portal.views.connection.cursor", side_effect=Exception("database gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"


def test_healthz_without_redis_configured_checks_only_the_database(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}
