"""seed_scale adds subscriptions for every scale customer (idempotent); the periodic job runs on a
real Celery worker through Redis and records an expired trial."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import billable_lines
from billing.tasks import subscriptions_process_due
from organizations.models import Organization
from tests import factories

ARGUMENTS = ["--customers", "20", "--projects", "20", "--users", "5", "--grants", "10", "--force"]


@pytest.mark.django_db
def test_seed_scale_books_for_every_customer_once():
    call_command("seed_scale", *ARGUMENTS)
    call_command("seed_scale", *ARGUMENTS)
    partner = Organization.objects.get(name="Scale Partner GmbH")
    assert Subscription.objects.filter(payer=partner, source="partner_order").count() == 20
    assert Subscription.objects.filter(organization__name__startswith="Scale Customer ", source="trial").count() == 20
    today = timezone.localdate()
    lines = list(billable_lines(today.replace(day=1), today, recipient=partner))
    assert len(lines) == 20 and len({line.customer_id for line in lines}) == 20  # one line per customer


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_periodic_job_runs_on_a_real_worker(celery_live_worker):
    organization = factories.OrganizationFactory()
    trial = Subscription.objects.get(organization=organization, source="trial")
    past = timezone.now() - timedelta(minutes=1)
    Subscription.objects.filter(pk=trial.pk).update(
        starts_at=past - timedelta(days=30), term_ends_at=past, ends_at=past
    )
    subscriptions_process_due.delay()
    assert wait_for(lambda: Subscription.objects.get(pk=trial.pk).status == "expired")
