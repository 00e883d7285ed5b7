"""Races on real PostgreSQL (two threads, two connections): exactly one transition wins and the
project role grant matches the final state; duplicate requests are refused by the constraint."""

from __future__ import annotations

import pytest

from delegations import services
from delegations.models import Delegation
from delegations.tests import factories as df
from organizations.models import AuditEvent
from portal.errors import Conflict
from projects.models import ProjectRoleGrant
from tests import factories
from tests.races import run_together

ROUNDS = 4


def assert_one_winner(results):
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    loser = next(value for kind, value in results if kind == "error")
    assert isinstance(loser, Conflict), repr(loser)


def assert_consistent(delegation_id):
    delegation = Delegation.objects.get(pk=delegation_id)
    grant = ProjectRoleGrant.objects.filter(project=delegation.project, source="delegation").exists()
    assert grant == (delegation.status == Delegation.Status.ACTIVE), delegation.status
    # exactly one transition out of pending was recorded
    decisions = AuditEvent.objects.filter(
        target_id=str(delegation_id), action__in=["delegation.accepted", "delegation.cancelled", "delegation.declined"]
    )
    assert decisions.count() == 1
    return delegation.status


@pytest.mark.django_db(transaction=True)
def test_accepting_a_request_races_the_caretaker_revoking_it(world):
    statuses = set()
    for round_number in range(ROUNDS):
        project = factories.project(world.customer, f"Race {round_number}")
        delegation = df.request(project, world.agency)
        decider = df.context(world.customer_owner, world.customer)
        caretaker = df.context(world.agency_owner, world.agency)
        accept_copy = Delegation.objects.get(pk=delegation.pk)
        revoke_copy = Delegation.objects.get(pk=delegation.pk)
        results = run_together(
            lambda: services.delegation_accept(delegation=accept_copy, context=decider, actor=world.customer_owner),
            lambda: services.delegation_revoke(delegation=revoke_copy, context=caretaker, actor=world.agency_owner),
        )
        assert_one_winner(results)
        statuses.add(assert_consistent(delegation.pk))
    assert statuses <= {"active", "cancelled"}


@pytest.mark.django_db(transaction=True)
def test_accepting_a_release_races_the_customer_revoking_it(world):
    statuses = set()
    for round_number in range(ROUNDS):
        project = factories.project(world.customer, f"Race {round_number}")
        released = df.release(project, world.agency_admin.email)
        owner = df.context(world.customer_owner, world.customer)
        revoke_copy = Delegation.objects.get(pk=released[0].pk)
        results = run_together(
            lambda: services.delegation_release_accept(
                token=released[0].token, user=world.agency_admin, caretaker=world.agency
            ),
            lambda: services.delegation_revoke(delegation=revoke_copy, context=owner, actor=world.customer_owner),
        )
        assert_one_winner(results)
        statuses.add(assert_consistent(released[0].pk))
    assert statuses <= {"active", "cancelled"}


@pytest.mark.django_db(transaction=True)
def test_revoking_an_active_delegation_from_both_sides_at_once(world):
    delegation = df.active(world.project, world.agency)
    owner = df.context(world.customer_owner, world.customer)
    caretaker = df.context(world.agency_owner, world.agency)
    first, second = Delegation.objects.get(pk=delegation.pk), Delegation.objects.get(pk=delegation.pk)
    results = run_together(
        lambda: services.delegation_revoke(delegation=first, context=owner, actor=world.customer_owner),
        lambda: services.delegation_revoke(delegation=second, context=caretaker, actor=world.agency_owner),
    )
    assert_one_winner(results)
    assert Delegation.objects.get(pk=delegation.pk).status == "revoked"
    assert not ProjectRoleGrant.objects.filter(project=world.project).exists()
    assert AuditEvent.objects.filter(action="delegation.revoked").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_store_one(world):
    requester = df.context(world.agency_owner, world.agency)
    results = run_together(
        *[
            lambda: services.delegation_request(
                context=requester, project_number=world.project.number, actor=world.agency_owner
            )
        ]
        * 2
    )
    assert_one_winner(results)
    loser = next(value for kind, value in results if kind == "error")
    assert loser.code == "duplicate"
    assert Delegation.objects.filter(project=world.project, caretaker=world.agency).count() == 1
