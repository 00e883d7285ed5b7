"""Races with one winner on real PostgreSQL (threads released together, one connection each).

The races that live with their app (offer accept against cancel, delegation accept against revoke,
owners removing each other, two invoice issuing runs, …) belong to this suite too: see REFERENCED
in conftest.py. Here are the ones no app test covered: accept against decline, the same invitation
accepted 20 times at once (with a new account and with one existing account), and two monthly
invoice runs started together.
"""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.core import mail

from invoices.models import Invoice, InvoiceNumberCounter
from invoices.services import issuing
from invoices.tests.factories import customer as billed_customer
from invoices.tests.factories import line
from offers import services as offer_services
from offers.models import Offer
from offers.tests import factories as of
from organizations.models import AuditEvent, Invitation, Membership, User
from organizations.roles import OrgRole
from organizations.services.invitations import (
    InvitationClosed,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
)
from portal.errors import Conflict
from tests import factories
from tests.races import one_winner, run_together

from .conftest import REFERENCED

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

ROUNDS = 3
TIMES = 20
PASSWORD = "Race-Passw0rd-2026"


def outcomes(results) -> dict:
    return {
        "winners": sum(1 for kind, _ in results if kind == "ok"),
        "losers": sum(1 for kind, _ in results if kind == "error"),
    }


def only_one_won(results, loser_types):
    counts = outcomes(results)
    assert counts["winners"] == 1, results
    losers = [value for kind, value in results if kind == "error"]
    assert all(isinstance(loser, loser_types) for loser in losers), [repr(loser) for loser in losers][:3]
    return counts


def test_referenced_race_tests_exist():
    """The app race tests that REFERENCED marks `faults` are still there under these names."""
    for node_id in REFERENCED:
        path, name = node_id.split("::")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, name, None)), node_id


# --- offers (OFR-7) -----------------------------------------------------------------------------------


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_offer_accept_against_decline_has_one_winner(round_, fault_report):
    partner = factories.PartnerFactory()
    customer = factories.OrganizationFactory()
    factories.link(partner, customer)
    owner, admin = factories.member(customer, OrgRole.OWNER), factories.member(customer, OrgRole.ADMIN)
    offer = of.offer(partner, customer)
    fresh = lambda: Offer.objects.select_related("partner", "customer").get(pk=offer.pk)  # noqa: E731

    results = run_together(
        lambda: offer_services.offer_accept(offer=fresh(), context=of.context(owner, customer), actor=owner),
        lambda: offer_services.offer_decline(
            offer=fresh(), context=of.context(admin, customer), actor=admin, reason="too expensive"
        ),
    )
    one_winner(results, Conflict)
    final = Offer.objects.get(pk=offer.pk)
    assert final.status in (Offer.Status.ACCEPTED, Offer.Status.DECLINED)
    assert (final.licenses_provisioned_at is not None) == (final.status == Offer.Status.ACCEPTED)
    decisions = AuditEvent.objects.filter(
        target_id=str(offer.pk), organization=partner, action__in=["offer.accepted", "offer.declined"]
    )
    assert decisions.count() == 1
    fault_report.record("offer accept vs decline", status=final.status, **outcomes(results))


# --- invitations (ORG-5) --------------------------------------------------------------------------------


def _invite(email: str):
    organization = factories.OrganizationFactory(name="Race AG")
    owner = factories.member(organization, OrgRole.OWNER)
    before = len(mail.outbox)
    invitation = invitation_create(organization=organization, email=email, role=OrgRole.MEMBER, actor=owner)
    [message] = mail.outbox[before:]  # the task ran eagerly after the commit
    token = next(
        line.strip().rstrip("/").rsplit("/", 1)[-1] for line in message.body.splitlines() if "/invitations/" in line
    )
    return organization, invitation, token


def test_the_same_invitation_accepted_20_times_at_once_with_a_new_account(fault_report):
    organization, invitation, token = _invite("twenty@example.com")
    results = run_together(
        *[lambda: invitation_accept_new_account(token=token, first_name="Twen", last_name="Ty", password=PASSWORD)]
        * TIMES
    )
    counts = only_one_won(results, (Conflict, InvitationClosed))
    assert User.objects.filter(email="twenty@example.com").count() == 1
    assert Membership.objects.filter(user__email="twenty@example.com", organization=organization).count() == 1
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.ACCEPTED
    assert AuditEvent.objects.filter(target_id=str(invitation.pk), action="invitation.accepted").count() == 1
    fault_report.record("invitation accepted 20x (new account)", sent=TIMES, **counts)


def test_the_same_invitation_accepted_20_times_at_once_by_its_account(fault_report):
    person = factories.UserFactory(email="existing-twenty@example.com")
    organization, invitation, token = _invite(person.email)
    results = run_together(*[lambda: invitation_accept(token=token, user=person)] * TIMES)
    counts = only_one_won(results, (Conflict, InvitationClosed))
    assert Membership.objects.filter(user=person, organization=organization).count() == 1
    assert AuditEvent.objects.filter(target_id=str(invitation.pk), action="invitation.accepted").count() == 1
    fault_report.record("invitation accepted 20x (existing account)", sent=TIMES, **counts)


# --- billing (BIL-5) ------------------------------------------------------------------------------------


def test_two_monthly_invoice_runs_at_once_issue_each_invoice_once_and_gapless(fault_report):
    today = date(2026, 11, 2)  # the run invoices October
    period = issuing.previous_month(today)
    recipients = [billed_customer(name=f"Monatslauf {n} GmbH") for n in range(4)]

    def october_lines(period_start, period_end):
        return [line(recipient, period=(period_start, period_end)) for recipient in recipients]

    results = run_together(
        lambda: issuing.invoice_monthly_run(today=today, line_source=october_lines),
        lambda: issuing.invoice_monthly_run(today=today, line_source=october_lines),
    )
    assert all(kind == "ok" for kind, _ in results), results  # the second run waits, then finds all issued
    issued = sorted(value for _kind, value in results)
    assert issued == [0, len(recipients)], issued
    invoices = Invoice.objects.filter(period_start=period[0], period_end=period[1])
    assert invoices.count() == len(recipients)
    assert sorted(invoices.values_list("recipient_id", flat=True)) == sorted(r.pk for r in recipients)
    assert sorted(invoices.values_list("sequence", flat=True)) == list(range(1, len(recipients) + 1))
    assert InvoiceNumberCounter.objects.get().last_number == len(recipients)
    fault_report.record(
        "two monthly invoice runs at once",
        sent=2 * len(recipients),
        delivered=invoices.count(),
        duplicated=sum(issued) - invoices.count(),
    )
