"""Fixtures of the whole suite (every app's tests can use them)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest
from rest_framework.test import APIClient

# The fault tests' counts table at the end of every run (also under pytest-xdist).
pytest_plugins = ["tests.faults.report"]


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    settings.LANGUAGE_CODE = "en"


class MediaRoots(NamedTuple):
    media: Path
    private: Path


@pytest.fixture
def media_roots(settings, tmp_path) -> MediaRoots:
    """This test's public files (MEDIA_ROOT) and private files (PRIVATE_MEDIA_ROOT, which
    SENDFILE_ROOT serves) in folders of their own, apart as the system check portal.E101 wants."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = settings.SENDFILE_ROOT = tmp_path / "private"
    return MediaRoots(Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT))


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def shared_world(db):
    """The one shared test world (tests/world.py): every kind of org and account of the portal."""
    from tests.world import build_world

    return build_world()


@pytest.fixture
def partner_setup(db):
    """The shared world without the agency's release: a partner with a linked customer and people
    in every role (indexed by name: `partner_setup["customer_admin"]`)."""
    from tests.world import CUSTOMER_PEOPLE, PARTNER_PEOPLE, build_world

    return build_world(caretaker=False, accounts=(*PARTNER_PEOPLE, *CUSTOMER_PEOPLE))


@pytest.fixture
def celery_live_worker(transactional_db):
    """A real Celery worker (in a thread of this process) consuming from the real Redis.

    Use with `@pytest.mark.django_db(transaction=True)`: the worker sees only committed rows.
    """
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from portal.celery import app

    previous = (app.conf.task_always_eager, settings.CELERY_TASK_ALWAYS_EAGER)
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = os.environ["REDIS_URL"]
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
        ) as worker:
            yield worker
    finally:
        app.conf.task_always_eager, settings.CELERY_TASK_ALWAYS_EAGER = previous
