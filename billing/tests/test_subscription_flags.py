"""Issue 13/16: the stored subscription flags behind the customer table's "trial running" and
"has subscriptions" filters (`Organization.has_trial_in_force`, `has_subscription_in_force`).

Every write of a subscription records a `SubscriptionChange`; `subscription_flags_refresh` (beat,
every minute) computes the flags and how long they hold; the filters trust a flag only while it is
current and test the subscriptions of the others. Pinned here: the filters equal the definition
(`Subscription.in_force_q`) in every state of the flags, each write path records its change, and
the jobs compute, keep and repair the flags."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing import services
from billing.models import Subscription, SubscriptionChange
from organizations import selectors
from organizations.models import Organization
from portal.state_machine import transition
from tests import factories

from .conftest import product

pytestmark = pytest.mark.django_db

Source, Status = Subscription.Source, Subscription.Status


def subscribe(organization, item, *, source=Source.PARTNER_ORDER, status=Status.ACTIVE, starts_at, ends_at=None):
    return Subscription.objects.create(
        organization=organization,
        payer=organization,
        product=item,
        source=source,
        status=status,
        quantity=1,
        unit_price=Decimal("10.00"),
        term_months=12,
        starts_at=starts_at,
        term_ends_at=starts_at + timedelta(days=365),
        ends_at=ends_at,
    )


@pytest.fixture
def moments(db):
    """Four organizations around the moment `now`, with changes an hour later: `ending` has a paid
    subscription (cancelled) that ends then, `starting` one that starts then, `trialling` a trial
    that ends then, `plain` none at all."""
    now = timezone.now().replace(microsecond=0)
    later = now + timedelta(hours=1)
    item = product("FLAGS-MOD")
    orgs = {name: factories.OrganizationFactory(name=name) for name in ("ending", "starting", "trialling", "plain")}
    Subscription.objects.filter(organization__in=orgs.values()).delete()
    subscribe(orgs["ending"], item, status=Status.CANCELLED, starts_at=now - timedelta(days=30), ends_at=later)
    subscribe(orgs["starting"], item, starts_at=later)
    subscribe(orgs["trialling"], item, source=Source.TRIAL, status=Status.TRIAL, starts_at=now, ends_at=later)
    return now, later, orgs


def truth(kind, wanted, at, orgs) -> set[str]:
    """The definition: `Subscription.in_force_q`, read from the subscriptions themselves."""
    in_force = Subscription.objects.in_force(at)
    in_force = in_force.filter(source=Source.TRIAL) if kind == "trial" else in_force.exclude(source=Source.TRIAL)
    having = set(in_force.values_list("organization__name", flat=True))
    return {name for name in orgs if (name in having) == wanted}


def filtered(kind, wanted, at, orgs) -> set[str]:
    queryset = Organization.objects.filter(pk__in=[org.pk for org in orgs.values()])
    return set(queryset.filter(selectors.customer_subscription_q(kind, wanted, at=at)).values_list("name", flat=True))


CASES = [("paid", True), ("paid", False), ("trial", True), ("trial", False)]


@pytest.mark.parametrize("state", ["changed", "current", "too_many_stale"])
@pytest.mark.parametrize(("kind", "wanted"), CASES)
def test_the_filters_equal_the_definition_whatever_the_state_of_the_flags(moments, monkeypatch, state, kind, wanted):
    """Now and two hours later (after the ends and the start, no job run in between): "changed"
    – written, the job has not run; "current" – the job ran at `now`, so two hours later the
    flags' time has passed; "too_many_stale" – the job stopped long ago, every customer tested."""
    now, later, orgs = moments
    if state != "changed":
        services.subscription_flags_refresh_all(at=now)
        assert not SubscriptionChange.objects.exists()
    if state == "too_many_stale":
        monkeypatch.setattr(selectors, "STALE_SUBSCRIPTION_FLAGS_MAX", 0)
    for at in (now, later + timedelta(hours=1)):
        assert filtered(kind, wanted, at, orgs) == truth(kind, wanted, at, orgs), (state, at)
    # the cases are not vacuous: each side of each filter is someone at one of the two moments
    assert truth(kind, wanted, now, orgs) != truth(kind, wanted, later + timedelta(hours=1), orgs)


def test_a_changed_maximum_of_stale_flags_does_not_stay_in_the_compiled_statement(moments, monkeypatch):
    """The stale ids' statement is compiled once with its LIMIT written in: one compiled under a
    maximum of 0 (the "too_many_stale" case) must not cut the list short once the maximum is back
    (CI failed with the cases in that order: a single stale id taken for all of them)."""
    now, _later, orgs = moments
    selectors._stale_subscription_flags_statement.cache_clear()  # as in a new process
    with monkeypatch.context() as patched:
        patched.setattr(selectors, "STALE_SUBSCRIPTION_FLAGS_MAX", 0)
        assert selectors._stale_subscription_flags(now) is None  # three changed: more than 0
    stale = selectors._stale_subscription_flags(now)
    assert set(stale) >= {orgs[name].pk for name in ("ending", "starting", "trialling")}
    assert filtered("trial", False, now, orgs) == truth("trial", False, now, orgs) == {"ending", "starting", "plain"}


def test_refresh_stores_the_flags_and_until_when_they_hold(moments):
    now, later, orgs = moments
    assert services.subscription_flags_refresh(at=now) >= 4
    stored = {
        org.name: (org.has_subscription_in_force, org.has_trial_in_force, org.subscription_flags_valid_until)
        for org in Organization.objects.filter(pk__in=[org.pk for org in orgs.values()])
    }
    assert stored == {
        "ending": (True, False, later),
        "starting": (False, False, later),
        "trialling": (False, True, later),
        "plain": (False, False, None),
    }
    assert not SubscriptionChange.objects.filter(organization__in=orgs.values()).exists()
    # nothing changed, nothing due: a second run has nothing to do
    assert services.subscription_flags_refresh(at=now) == 0
    # past their time the three are due again, without any write; afterwards they hold for good
    assert services.subscription_flags_refresh(at=later) == 3
    assert set(
        Organization.objects.filter(pk__in=[org.pk for org in orgs.values()]).values_list(
            "name", "has_subscription_in_force", "has_trial_in_force", "subscription_flags_valid_until"
        )
    ) == {
        ("ending", False, False, None),
        ("starting", True, False, None),
        ("trialling", False, False, None),
        ("plain", False, False, None),
    }


def test_every_write_path_records_its_change_and_only_those(moments):
    now, later, orgs = moments
    services.subscription_flags_refresh_all(at=now)
    ending = Subscription.objects.get(organization=orgs["ending"])

    def recorded() -> list[str]:
        names = list(SubscriptionChange.objects.values_list("organization__name", flat=True))
        SubscriptionChange.objects.all().delete()
        return names

    ending.quantity = 2
    ending.save(update_fields=["quantity", "updated_at"])
    Subscription.objects.filter(pk=ending.pk).update(quantity=3)
    Subscription.objects.filter(pk=ending.pk, status__in=[]).update(status=Status.EXPIRED)  # matches nothing
    assert recorded() == []
    ending.save()  # a save of every field may change anything
    assert recorded() == ["ending"]
    Subscription.objects.filter(organization=orgs["starting"]).update(starts_at=now)
    assert recorded() == ["starting"]
    starting = Subscription.objects.get(organization=orgs["starting"])
    transition(starting, Status.CANCELLED, ends_at=later)  # the state machine's conditional UPDATE
    assert recorded() == ["starting"]
    item = product("FLAGS-ADD")
    Subscription.objects.bulk_create(
        [
            Subscription(
                organization=orgs["plain"],
                payer=orgs["plain"],
                product=item,
                source=Source.PARTNER_ORDER,
                quantity=1,
                unit_price=Decimal("1.00"),
                term_months=1,
                starts_at=now,
                term_ends_at=later,
            )
        ]
    )
    assert recorded() == ["plain"]
    Subscription.objects.get(organization=orgs["plain"]).delete()
    assert recorded() == ["plain"]


def test_a_booking_through_the_service_shows_in_the_filter_at_once(moments):
    """The partner books; before any job runs, "without subscriptions" no longer lists the org."""
    now, _later, orgs = moments
    services.subscription_flags_refresh_all(at=now)
    plain = orgs["plain"]
    assert "plain" in filtered("paid", False, timezone.now(), orgs)
    subscribe(plain, product("FLAGS-NEW"), starts_at=timezone.now() - timedelta(minutes=1))
    assert "plain" not in filtered("paid", False, timezone.now(), orgs)
    assert "plain" in filtered("paid", True, timezone.now(), orgs)
    assert Organization.objects.get(pk=plain.pk).has_subscription_in_force is False  # the stored flag lags
    services.subscription_flags_refresh()
    assert Organization.objects.get(pk=plain.pk).has_subscription_in_force is True


def test_saving_an_organization_read_before_the_job_ran_keeps_the_jobs_flags(moments):
    now, _later, orgs = moments
    loaded = Organization.objects.get(pk=orgs["ending"].pk)  # flags as the migration left them
    assert loaded.has_subscription_in_force is False
    services.subscription_flags_refresh_all(at=now)
    loaded.city = "Leipzig"
    loaded.save()  # e.g. the profile form, submitted after the job ran
    stored = Organization.objects.get(pk=loaded.pk)
    assert (stored.city, stored.has_subscription_in_force) == ("Leipzig", True)


def test_reconcile_repairs_flags_changed_behind_the_orms_back(moments):
    now, _later, orgs = moments
    services.subscription_flags_refresh_all(at=now)
    with connection.cursor() as cursor:  # e.g. SQL typed in a shell: no change recorded
        cursor.execute(
            f"UPDATE {Organization._meta.db_table} SET has_subscription_in_force = %s WHERE id = %s",
            [True, orgs["plain"].pk],
        )
    assert "plain" in filtered("paid", True, now, orgs)  # what the flag now says
    assert services.subscription_flags_reconcile(at=now) == 1
    assert "plain" not in filtered("paid", True, now, orgs)
    assert services.subscription_flags_reconcile(at=now) == 0


def test_the_jobs_are_scheduled():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["billing.tasks.subscription_flags_refresh"] == timedelta(minutes=1)
    assert "billing.tasks.subscription_flags_reconcile" in schedule
