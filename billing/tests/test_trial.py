"""BIL-2: every new customer org gets 2 licences for 30 days; the end is enforced when read."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from billing import services
from billing.models import Subscription
from billing.selectors import billable_lines, licences_in_force
from organizations.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_new_customer_org_gets_two_licences_for_thirty_days():
    before = timezone.now()
    organization = factories.OrganizationFactory()
    trial = Subscription.objects.get(organization=organization)
    assert (trial.source, trial.status, trial.quantity, trial.unit_price) == ("trial", "trial", 2, 0)
    assert trial.payer == organization
    assert timedelta(days=30) <= trial.ends_at - before < timedelta(days=30, minutes=1)
    assert trial.term_ends_at == trial.ends_at and not trial.renews
    assert licences_in_force(organization=organization) == 2
    assert AuditEvent.objects.filter(organization=organization, action="subscription.trial_started").count() == 1


def test_partner_orgs_get_no_trial():
    partner = factories.PartnerFactory()
    assert not Subscription.objects.filter(organization=partner).exists()


def test_trial_size_and_length_come_from_the_settings(settings):
    settings.TRIAL_DAYS, settings.TRIAL_LICENSES = 14, 5
    organization = factories.OrganizationFactory()
    trial = Subscription.objects.get(organization=organization)
    assert trial.quantity == 5
    assert (trial.ends_at - trial.starts_at) == timedelta(days=14)


def test_starting_the_trial_twice_keeps_one():
    organization = factories.OrganizationFactory()
    first = Subscription.objects.get(organization=organization)
    again = services.trial_start(organization=organization)
    assert again.pk == first.pk
    assert Subscription.objects.filter(organization=organization).count() == 1


def test_an_expired_trial_never_counts_even_before_the_job_ran():
    organization = factories.OrganizationFactory()
    trial = Subscription.objects.get(organization=organization)
    with time_machine.travel(trial.ends_at - timedelta(seconds=1), tick=False):
        assert licences_in_force(organization=organization) == 2
        assert Subscription.objects.with_current_status().get(pk=trial.pk).current_status == "trial"
    with time_machine.travel(trial.ends_at, tick=False):
        assert licences_in_force(organization=organization) == 0
        assert not Subscription.objects.in_force().filter(pk=trial.pk).exists()
        fresh = Subscription.objects.get(pk=trial.pk)
        assert fresh.status == "trial"  # nothing recorded yet …
        assert fresh.current_status == "expired"  # … and still expired when read
        assert Subscription.objects.with_current_status().get(pk=trial.pk).current_status == "expired"


def test_the_job_records_the_expiry_once():
    organization = factories.OrganizationFactory()
    trial = Subscription.objects.get(organization=organization)
    with time_machine.travel(trial.ends_at + timedelta(hours=1), tick=False):
        assert services.subscriptions_process_due() == {"expired": 1, "renewed": 0, "applied": 0}
        assert services.subscriptions_process_due() == {"expired": 0, "renewed": 0, "applied": 0}
    trial.refresh_from_db()
    assert trial.status == "expired"
    assert AuditEvent.objects.filter(target_id=str(trial.pk), action="subscription.expired").count() == 1


def test_trials_are_never_invoiced():
    organization = factories.OrganizationFactory()
    today = timezone.localdate()
    assert [line for line in billable_lines(today.replace(day=1), today) if line.customer_id == organization.pk] == []
