"""Fixtures of the whole suite (every app's tests can use them)."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from organizations.roles import OrgRole
from tests import factories

# The fault tests' counts table at the end of every run (also under pytest-xdist).
pytest_plugins = ["tests.faults.report"]


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    settings.LANGUAGE_CODE = "en"


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
    """A partner org with a linked customer and people in every role."""
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Customer AG")
    factories.link(partner, customer)
    people = {
        "partner_owner": factories.member(partner, OrgRole.OWNER),
        "partner_admin": factories.member(partner, OrgRole.ADMIN),
        "partner_member": factories.member(partner, OrgRole.MEMBER),
        "customer_owner": factories.member(customer, OrgRole.OWNER),
        "customer_admin": factories.member(customer, OrgRole.ADMIN),
        "customer_member": factories.member(customer, OrgRole.MEMBER),
        "customer_guest": factories.member(customer, OrgRole.GUEST),
    }
    return {"partner": partner, "customer": customer, **people}


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
