"""Connection request emails through the real worker (and nothing lost while Redis is down);
query counts of the organizations pages and endpoints that do not grow with the data (x10)."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.models import AuditEvent, CustomerRelation
from organizations.roles import OrgRole
from portal.celery import app
from portal.models import OutboxMessage
from portal.outbox import outbox_sweep_due
from tests import factories

from ..services.relations import connection_request
from .conftest import ctx


def _wait_for(predicate, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _reset_publisher_pools():
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_connection_request_email_goes_through_redis_to_a_real_worker(world, celery_live_worker):
    with transaction.atomic():
        relation = connection_request(
            context=ctx(world.partner_owner, world.partner),
            actor=world.partner_owner,
            identifier=world.direct.public_id,
        )
    row = OutboxMessage.objects.get(dedupe_key=f"customer-relation:{relation.pk}:requested:{world.direct_owner.pk}")
    assert _wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).status == OutboxMessage.Status.DONE)
    assert [m.to for m in mail.outbox] == [[world.direct_owner.email]]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_redis_down_during_the_request_loses_no_email(world, celery_live_worker):
    good_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    _reset_publisher_pools()
    try:
        with transaction.atomic():
            connection_request(
                context=ctx(world.partner_owner, world.partner),
                actor=world.partner_owner,
                identifier=world.direct.public_id,
            )
        assert CustomerRelation.objects.filter(customer=world.direct, status="requested").exists()
        assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 1
    finally:
        app.conf.broker_url = good_broker
        _reset_publisher_pools()
    assert mail.outbox == []
    assert outbox_sweep_due() == 1
    assert _wait_for(lambda: len(mail.outbox) == 1)
    assert outbox_sweep_due() == 0


# --- query counts ----------------------------------------------------------------------------------


def _count(client, url, params=None, method="get") -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, params or {})
    assert response.status_code < 400, (url, response.status_code)
    return len(captured)


def _requests_to(world, count):
    for _ in range(count):
        partner = factories.PartnerFactory()
        CustomerRelation.objects.create(partner=partner, customer=world.direct, status="requested", message="Hallo")
    for _ in range(count):
        CustomerRelation.objects.create(
            partner=world.partner, customer=factories.OrganizationFactory(), status="requested"
        )


def _audit_events(world, count):
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=world.customer,
                acting_organization=world.partner,
                actor=world.partner_admin,
                actor_email=world.partner_admin.email,
                action="organization.changed",
                target_type="organizations.organization",
                target_id=str(world.customer.pk),
                target_repr="Kunde AG",
                before={"city": "A"},
                after={"city": str(n)},
            )
            for n in range(count)
        ]
    )


@pytest.mark.django_db
def test_open_requests_audit_and_customer_pages_do_not_grow_with_the_data(world, client, api_client):
    for user in (world.partner_member, factories.member(world.partner, OrgRole.GUEST)):
        factories.assign(user, world.partner, world.customer)
    cases = [
        (world.direct_owner, reverse("open-requests", kwargs={"org": world.direct.public_id}), {}),
        (world.partner_owner, reverse("open-requests", kwargs={"org": world.partner.public_id}), {}),
        (
            world.customer_owner,
            reverse("audit-trail", kwargs={"org": world.customer.public_id}),
            {"origin": "external"},
        ),
        (world.partner_owner, reverse("audit-trail", kwargs={"org": world.customer.public_id}), {"q": "changed"}),
        (world.partner_owner, reverse("audit-trail", kwargs={"org": world.partner.public_id}), {"customers": "1"}),
        (
            world.partner_owner,
            reverse("customer-detail", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id}),
            {},
        ),
        (world.partner_owner, reverse("organization-dashboard", kwargs={"org": world.customer.public_id}), {}),
    ]
    api_cases = [
        (world.direct_owner, reverse("connection-request-api-list", kwargs={"org": world.direct.public_id}), {}),
        (world.customer_owner, reverse("audit-event-api-list", kwargs={"org": world.customer.public_id}), {}),
        (
            world.partner_owner,
            reverse(
                "customer-api-staff", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id}
            ),
            {},
        ),
    ]

    def measure():
        counts = []
        for user, url, params in cases:
            client.force_login(user)
            counts.append(_count(client, url, params))
        for user, url, params in api_cases:
            api_client.force_login(user)
            counts.append(_count(api_client, url, params))
        return counts

    _requests_to(world, 3)
    _audit_events(world, 30)
    small = measure()
    _requests_to(world, 30)
    _audit_events(world, 300)
    for _ in range(20):
        factories.assign(factories.member(world.partner, OrgRole.MEMBER), world.partner, world.customer)
    assert measure() == small
