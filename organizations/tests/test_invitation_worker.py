"""ORG-5 invitation emails through a real Celery worker and real Redis: in the invitee's language,
nothing lost while Redis is down (the sweeper sends it later), never sent twice."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from organizations.models import Invitation
from organizations.roles import OrgRole
from portal.celery import app
from portal.models import OutboxMessage
from portal.outbox import outbox_publish, outbox_sweep_due
from tests import factories
from tests.test_outbox import _reset_publisher_pools, wait_for

from ..services.invitations import invitation_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _row(invitation):
    return OutboxMessage.objects.get(dedupe_key=f"invitation:{invitation.pk}:{invitation.send_count}")


def _done(invitation):
    return lambda: _row(invitation).status == OutboxMessage.Status.DONE


@pytest.fixture
def customer(transactional_db):
    organization = factories.OrganizationFactory(name="Worker AG")
    return organization, factories.member(organization, OrgRole.OWNER, language="en")


def test_the_invitation_email_is_sent_by_the_worker_in_the_invitees_language(celery_live_worker, customer):
    organization, owner = customer
    with transaction.atomic():
        invitation = invitation_create(
            organization=organization,
            email="neu@example.com",
            role=OrgRole.ADMIN,
            actor=owner,
            language="de",
        )
    assert wait_for(_done(invitation))
    [email] = mail.outbox
    assert email.to == ["neu@example.com"] and email.subject == "Einladung zu Worker AG"
    assert "/invitations/" in email.body
    assert Invitation.objects.get(pk=invitation.pk).emailed_at is not None


def test_redis_down_while_inviting_loses_nothing_and_the_sweeper_sends_it_once(celery_live_worker, customer):
    organization, owner = customer
    good_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # Redis "down"
    _reset_publisher_pools()
    try:
        with transaction.atomic():
            invitation = invitation_create(
                organization=organization, email="later@example.com", role=OrgRole.GUEST, actor=owner
            )
        # the invitation and its email row committed; the publish failed quietly
        assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING
        assert _row(invitation).status == OutboxMessage.Status.PENDING
    finally:
        app.conf.broker_url = good_broker
        _reset_publisher_pools()
    assert mail.outbox == []
    assert outbox_sweep_due() == 1  # the periodic sweeper, Redis back
    assert wait_for(_done(invitation))
    assert [m.to for m in mail.outbox] == [["later@example.com"]]
    assert outbox_sweep_due() == 0


def test_publishing_the_same_row_twice_sends_one_email(celery_live_worker, customer):
    organization, owner = customer
    with transaction.atomic():
        invitation = invitation_create(
            organization=organization, email="once@example.com", role=OrgRole.GUEST, actor=owner
        )
    row = _row(invitation)
    outbox_publish(message_id=row.pk)  # a duplicate delivery, e.g. the sweeper racing the first publish
    outbox_publish(message_id=row.pk)
    assert wait_for(_done(invitation))
    # let the duplicates reach the worker too, then count
    assert wait_for(lambda: False, timeout=2) is False
    assert [m.to for m in mail.outbox] == [["once@example.com"]]
    assert OutboxMessage.objects.get(pk=row.pk).attempts == 1
