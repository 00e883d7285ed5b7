"""Sending one template to 1,000 customer orgs in the background, with progress shown."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from offers import services
from offers.models import Offer, OfferBulkSend, OfferItem
from organizations.models import AuditEvent, CustomerRelation, Organization
from organizations.roles import OrgKind
from portal.models import OutboxMessage
from portal.outbox import outbox_process_message

from . import factories as of

pytestmark = pytest.mark.django_db


def many_customers(partner, count):
    customers = Organization.objects.bulk_create(
        [Organization(name=f"Bulk Kunde {n:04d}", kind=OrgKind.CUSTOMER, public_id=f"BK{n:06d}") for n in range(count)]
    )
    CustomerRelation.objects.bulk_create(
        [
            CustomerRelation(
                partner=partner, customer=c, status=CustomerRelation.Status.ACTIVE, activated_at=timezone.now()
            )
            for c in customers
        ]
    )
    return customers


def test_bulk_send_to_1000_customers_completes_with_progress(world, client):
    many_customers(world.partner, 999)  # plus the world's customer: 1,000
    template = of.template(world.partner, products=world.products)
    client.force_login(world.partner_owner)
    response = client.post(
        reverse("offer-bulk-send", kwargs={"org": world.partner.public_id}),
        {"template": template.pk, "message": "Für alle", "recipients": "all"},
    )
    assert response.status_code == 302
    bulk = OfferBulkSend.objects.get()
    assert bulk.total == 1000 and bulk.status == "running"
    progress_url = response["Location"]
    assert "0 of 1000" in client.get(progress_url).content.decode()

    started = time.monotonic()
    row = OutboxMessage.objects.get(kind=services.BULK_SEND_KIND)
    assert outbox_process_message(message_id=row.pk) == OutboxMessage.Status.DONE
    elapsed = time.monotonic() - started
    bulk.refresh_from_db()
    assert (bulk.status, bulk.sent_count, bulk.skipped_count) == ("done", 1000, 0)
    assert Offer.objects.filter(bulk_send=bulk).count() == 1000
    assert OfferItem.objects.filter(offer__bulk_send=bulk).count() == 2000
    assert OutboxMessage.objects.filter(kind=services.DELIVER_KIND).count() == 1000
    assert AuditEvent.objects.filter(action="offer.sent").count() == 2000  # partner's and customer's trail
    assert elapsed < 60, elapsed

    fragment = client.get(progress_url, HTTP_HX_REQUEST="true").content.decode()
    assert "1000 of 1000" in fragment and "hx-trigger" not in fragment  # polling stops when done

    # running the job again (a retried task) creates nothing new
    services.offer_bulk_send_process(bulk_send_id=bulk.pk)
    OfferBulkSend.objects.filter(pk=bulk.pk).update(status="running")
    services.offer_bulk_send_process(bulk_send_id=bulk.pk)
    assert Offer.objects.filter(bulk_send=bulk).count() == 1000

    # deliveries run from their rows like single offers
    first = OutboxMessage.objects.filter(kind=services.DELIVER_KIND).order_by("id").first()
    outbox_process_message(message_id=first.pk)
    assert Offer.objects.get(pk=first.payload["offer_id"]).status == Offer.Status.WAITING_FOR_CONFIRMATION


def test_bulk_send_to_listed_customers_and_ended_relations_are_skipped(world, api_client):
    customers = many_customers(world.partner, 3)
    template = of.template(world.partner, products=world.products)
    api_client.force_authenticate(world.partner_admin)
    base = f"/api/v1/organizations/{world.partner.public_id}/offer-bulk-sends/"
    bad = api_client.post(
        base, {"template": template.pk, "customers": [customers[0].public_id, "UNKNOWN1"]}, format="json"
    )
    assert bad.status_code == 400
    response = api_client.post(
        base, {"template": template.pk, "customers": [c.public_id for c in customers]}, format="json"
    )
    assert response.status_code == 202, response.content
    bulk_id = response.json()["id"]
    CustomerRelation.objects.filter(customer=customers[2]).update(status=CustomerRelation.Status.ENDED)
    services.offer_bulk_send_process(bulk_send_id=bulk_id)
    body = api_client.get(f"{base}{bulk_id}/").json()
    assert (body["status"], body["sent_count"], body["skipped_count"], body["progress_percent"]) == ("done", 2, 1, 100)


def test_customers_cannot_bulk_send(world, api_client):
    api_client.force_authenticate(world.customer_owner)
    response = api_client.post(f"/api/v1/organizations/{world.customer.public_id}/offer-bulk-sends/", {}, format="json")
    assert response.status_code == 404
