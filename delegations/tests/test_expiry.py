"""DLG-5/DLG-6 with a frozen clock: access ends at the instant, the status says expired when read,
the periodic job records it idempotently and warns exactly once 7 days before the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from delegations import services
from delegations.models import Delegation
from delegations.tests import factories as df
from organizations.models import AuditEvent
from portal.errors import Conflict
from portal.models import Notification, OutboxMessage
from portal.outbox import outbox_process_message
from projects.models import ProjectRoleGrant
from projects.roles import ProjectAction
from projects.selectors import project_list_for_user, project_user_may

pytestmark = pytest.mark.django_db

# In UTC, so that "30 days later" is 30 × 24 hours across the change to summer time.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
END = datetime(2026, 4, 1, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def send_outbox():
    for message_id in OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True):
        outbox_process_message(message_id=message_id)


def may_view(world) -> bool:
    return project_user_may(user=world.agency_member, project=world.project, action=ProjectAction.VIEW)


@pytest.mark.parametrize("via", ["request", "release"])
def test_access_ends_at_the_instant_without_any_job(world, via):
    with time_machine.travel(START, tick=False) as clock:
        delegation = df.active(world.project, world.agency, ends_at=END, via=via)
        assert may_view(world) and world.project in project_list_for_user(user=world.agency_member)
        assert delegation.current_status == "active"

        clock.move_to(END - timedelta(microseconds=1))
        assert may_view(world)
        assert Delegation.objects.with_current_status().get(pk=delegation.pk).current_status == "active"

        clock.move_to(END)
        # no job has run: the row still says active, but nothing honours it any more
        assert Delegation.objects.get(pk=delegation.pk).status == "active"
        assert not may_view(world)
        assert world.project not in project_list_for_user(user=world.agency_member)
        fresh = Delegation.objects.get(pk=delegation.pk)
        assert fresh.current_status == "expired"
        assert fresh.get_current_status_display() == "Expired"
        assert Delegation.objects.with_current_status().get(pk=delegation.pk).current_status == "expired"


def test_acting_on_an_expired_delegation_records_the_expiry_and_answers_409(world):
    with time_machine.travel(START, tick=False) as clock:
        delegation = df.active(world.project, world.agency, ends_at=END)
        clock.move_to(END + timedelta(hours=1))
        with pytest.raises(Conflict) as error:
            services.delegation_revoke(
                delegation=delegation,
                context=df.context(world.customer_owner, world.customer),
                actor=world.customer_owner,
            )
        assert error.value.code == "expired"
        delegation.refresh_from_db()
        assert (delegation.status, delegation.ended_at) == ("expired", END + timedelta(hours=1))
        assert not ProjectRoleGrant.objects.filter(project=world.project, organization=world.agency).exists()
        assert (
            AuditEvent.objects.filter(action="delegation.expired", actor=None, organization=world.customer).count() == 1
        )


def test_undecided_requests_expire_after_30_days(world):
    with time_machine.travel(START, tick=False) as clock:
        delegation = df.request(world.project, world.agency)
        clock.move_to(START + timedelta(days=30) - timedelta(seconds=1))
        assert Delegation.objects.get(pk=delegation.pk).current_status == "pending"
        clock.move_to(START + timedelta(days=30))
        assert Delegation.objects.get(pk=delegation.pk).current_status == "expired"
        with pytest.raises(Conflict) as error:
            services.delegation_accept(
                delegation=Delegation.objects.get(pk=delegation.pk),
                context=df.context(world.customer_owner, world.customer),
                actor=world.customer_owner,
            )
        assert error.value.code == "expired"
        assert Delegation.objects.get(pk=delegation.pk).status == "expired"
        assert not may_view(world)
        # the caretaker that asked is told
        assert {n.recipient for n in Notification.objects.filter(kind="delegations.expired")} == {
            world.agency_owner,
            world.agency_admin,
        }


def test_an_expired_request_does_not_block_a_new_one(world):
    with time_machine.travel(START, tick=False) as clock:
        first = df.request(world.project, world.agency)
        clock.move_to(START + timedelta(days=31))
        second = df.request(world.project, world.agency)  # the stale one is recorded first
        assert Delegation.objects.get(pk=first.pk).status == "expired"
        assert second.status == "pending"


def test_a_release_link_after_30_days_is_no_longer_open(world):
    with time_machine.travel(START, tick=False) as clock:
        released = df.release(world.project, world.agency_admin.email)
        clock.move_to(START + timedelta(days=30, minutes=1))
        with pytest.raises(Conflict):
            services.delegation_release_accept(token=released[0].token, user=world.agency_admin, caretaker=world.agency)
        assert Delegation.objects.get(pk=released[0].pk).status == "expired"
        assert not may_view(world)


def test_a_pending_release_whose_end_passed_cannot_be_accepted(world):
    with time_machine.travel(START, tick=False) as clock:
        released = df.release(world.project, world.agency_admin.email, ends_at=START + timedelta(days=2))
        clock.move_to(START + timedelta(days=3))
        assert Delegation.objects.get(pk=released[0].pk).current_status == "expired"
        with pytest.raises(Conflict):
            services.delegation_release_accept(token=released[0].token, user=world.agency_admin, caretaker=world.agency)
        assert not may_view(world)


def test_accepting_a_request_with_an_end_date_limits_access(world):
    with time_machine.travel(START, tick=False) as clock:
        delegation = df.request(world.project, world.agency)
        services.delegation_accept(
            delegation=delegation,
            context=df.context(world.customer_owner, world.customer),
            actor=world.customer_owner,
            ends_at=END,
        )
        grant = ProjectRoleGrant.objects.get(project=world.project, organization=world.agency)
        assert (grant.role, grant.source, grant.expires_at) == ("external", "delegation", END)
        clock.move_to(END)
        assert not may_view(world)


def test_the_job_records_expiries_and_is_idempotent(world):
    from tests import factories

    other = factories.project(world.customer, "Other")
    with time_machine.travel(START, tick=False) as clock:
        active = df.active(world.project, world.agency, ends_at=END)
        pending = df.request(other, world.agency)
        unlimited = df.active(factories.project(world.customer, "Unlimited"), world.agency)
        clock.move_to(START + timedelta(days=31))
        assert services.delegation_process_expiries() == {"expired": 2, "warned": 0}
        assert services.delegation_process_expiries() == {"expired": 0, "warned": 0}
        assert Delegation.objects.get(pk=active.pk).status == "expired"
        assert Delegation.objects.get(pk=pending.pk).status == "expired"
        assert Delegation.objects.get(pk=unlimited.pk).status == "active"
        assert not ProjectRoleGrant.objects.filter(project=world.project, organization=world.agency).exists()
        assert AuditEvent.objects.filter(action="delegation.expired").count() == 2


def test_warning_seven_days_before_the_end_goes_out_exactly_once(world):
    with time_machine.travel(START, tick=False) as clock:
        delegation = df.active(world.project, world.agency, ends_at=END)
        send_outbox()  # the request and acceptance emails
        mail.outbox.clear()
        clock.move_to(END - timedelta(days=7, seconds=1))
        assert services.delegation_process_expiries()["warned"] == 0
        clock.move_to(END - timedelta(days=7))
        assert services.delegation_process_expiries()["warned"] == 1
        clock.move_to(END - timedelta(days=6))
        assert services.delegation_process_expiries()["warned"] == 0
        # even a direct second call, e.g. two overlapping job runs, warns nobody twice
        assert services.delegation_warn_expiry(delegation=delegation) is False
        send_outbox()
    notified = Notification.objects.filter(kind="delegations.expiring")
    assert sorted(n.recipient.email for n in notified) == sorted(
        u.email for u in (world.customer_owner, world.customer_admin, world.agency_owner, world.agency_admin)
    )
    assert len(mail.outbox) == 4
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    # Issue 16: access until 1 April 00:00 is access through 31 March, shown as that day.
    assert subjects[world.customer_owner.email].endswith("endet am 31. März 2026")  # German reader
    assert subjects[world.agency_owner.email].endswith("ends on 31 Mar 2026")  # English reader
    assert Delegation.objects.get(pk=delegation.pk).expiry_warned_at == END - timedelta(days=7)


def test_the_job_is_on_beat():
    from portal.celery import app

    entry = app.conf.beat_schedule["delegations.tasks.delegation_process_expiries"]
    assert entry["task"] == "delegations.tasks.delegation_process_expiries"
    assert entry["schedule"] <= timedelta(hours=1)


def test_the_task_calls_the_service(world):
    from delegations.tasks import delegation_process_expiries

    with time_machine.travel(START, tick=False) as clock:
        df.active(world.project, world.agency, ends_at=END)
        clock.move_to(END)
        assert delegation_process_expiries.apply().get() == {"expired": 1, "warned": 0}
