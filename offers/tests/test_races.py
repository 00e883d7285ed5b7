"""OFR-7 on real PostgreSQL (two threads, two connections): accept against cancel, and a double
accept – exactly one transition wins and the licenses are provisioned once."""

from __future__ import annotations

import threading

import pytest

from offers import services
from offers.models import Offer
from organizations.models import AuditEvent
from portal.errors import Conflict
from portal.hooks import _HOOKS
from tests.races import run_together

from . import factories as of

ROUNDS = 4


@pytest.fixture
def provisioned():
    """Counts the hook calls – what billing would provision."""
    calls = []
    lock = threading.Lock()

    def record(**kwargs):
        with lock:
            calls.append(kwargs["offer_id"])

    _HOOKS["offer.accepted"].append(record)
    yield calls
    _HOOKS["offer.accepted"].remove(record)


def _fresh(offer_id):
    return Offer.objects.select_related("partner", "customer").get(pk=offer_id)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_accept_racing_cancel_has_one_winner(world, provisioned, round_):
    offer = of.offer(world.partner, world.customer)
    results = run_together(
        lambda: services.offer_accept(
            offer=_fresh(offer.pk), context=of.context(world.customer_owner, world.customer), actor=world.customer_owner
        ),
        lambda: services.offer_cancel(
            offer=_fresh(offer.pk), context=of.context(world.partner_owner, world.partner), actor=world.partner_owner
        ),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    assert isinstance(next(value for kind, value in results if kind == "error"), Conflict)
    final = Offer.objects.get(pk=offer.pk)
    assert final.status in (Offer.Status.ACCEPTED, Offer.Status.CANCELLED)
    assert provisioned == ([offer.pk] if final.status == Offer.Status.ACCEPTED else [])
    assert (final.licenses_provisioned_at is not None) == (final.status == Offer.Status.ACCEPTED)
    decisions = AuditEvent.objects.filter(
        target_id=str(offer.pk), action__in=["offer.accepted", "offer.cancelled"], organization=world.partner
    )
    assert decisions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_double_accept_provisions_once(world, provisioned):
    offer = of.offer(world.partner, world.customer)
    results = run_together(
        *[
            (
                lambda user=user: services.offer_accept(
                    offer=_fresh(offer.pk), context=of.context(user, world.customer), actor=user
                )
            )
            for user in (world.customer_owner, world.customer_admin)
        ]
    )
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert provisioned == [offer.pk]
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED
