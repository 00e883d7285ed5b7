"""Issue 12, isolation table: the answers the table had marked `# SUSPECT`, fixed.

Each test pins one of them with the shared world (tests/world.py); the table
(tests/isolation_expected.txt) holds the same cells for every account.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from invoices.tests.isolation import invoice_of
from offers.tests import factories as offer_factories

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_partner_managers_read_a_customers_connection_requests_with_requests_view(shared_world):
    """The Open-requests page and roles.py give the lists `requests.view`; the API asked for the
    consent `requests.decide` and answered partner Owners/Admins 403. Deciding stays a consent."""
    from organizations.tests.isolation import connection_request_of

    relation_id = connection_request_of(shared_world.customer, shared_world.customer_owner)
    org = shared_world.customer.public_id
    for account in ("partner_owner", "partner_admin"):
        client = _api(shared_world[account])
        listed = client.get(reverse("connection-request-api-list", kwargs={"org": org}))
        assert listed.status_code == 200, (account, listed.content)
        assert relation_id in {row["id"] for row in listed.json()["results"]}
        detail = client.get(reverse("connection-request-api-detail", kwargs={"org": org, "relation_id": relation_id}))
        assert detail.status_code == 200, (account, detail.content)
        accept = client.post(reverse("connection-request-api-accept", kwargs={"org": org, "relation_id": relation_id}))
        assert accept.status_code == 403 and accept.json()["error"]["code"] == "customer_decides"
    # Members acting in the customer (assigned, ORG-11) still lack `requests.view`.
    client = _api(shared_world.partner_member_assigned)
    assert client.get(reverse("connection-request-api-list", kwargs={"org": org})).status_code == 403


def test_flat_invoice_detail_and_pdf_follow_the_org_url_rule(shared_world):
    """Fixed by the merge of the one reach rule (the cross-org restriction is `capability_q`); this
    pins it. `/api/v1/invoices/<id>/` and its PDF answer partner Owners/Admins as
    `/api/v1/organizations/<customer>/invoices/<id>/` does; the customer's own Members (its
    Owners/Admins read invoices addressed to it, BIL-8), assigned partner Members and strangers get 404."""
    invoice_id = invoice_of(shared_world.customer, shared_world.customer_owner)
    org = shared_world.customer.public_id
    for account in ("partner_owner", "partner_admin"):
        client = _api(shared_world[account])
        under_org = client.get(
            reverse("organization-invoice-api-detail", kwargs={"org": org, "invoice_id": invoice_id})
        )
        flat = client.get(reverse("invoice-api-detail", kwargs={"invoice_id": invoice_id}))
        assert under_org.status_code == flat.status_code == 200, (account, flat.content)
        pdf = client.get(reverse("invoice-api-pdf", kwargs={"invoice_id": invoice_id}))
        pdf_under_org = client.get(
            reverse("organization-invoice-api-pdf", kwargs={"org": org, "invoice_id": invoice_id})
        )
        assert pdf.status_code == pdf_under_org.status_code != 404, (account, pdf.status_code)
    for account in ("customer_member", "partner_member_assigned", "foreign_owner"):
        client = _api(shared_world[account])
        assert client.get(reverse("invoice-api-detail", kwargs={"invoice_id": invoice_id})).status_code == 404
        assert client.get(reverse("invoice-api-pdf", kwargs={"invoice_id": invoice_id})).status_code == 404


def test_items_of_a_foreign_template_under_the_own_org_are_404(shared_world):
    """`/api/v1/organizations/<own>/offer-templates/<foreign>/items/` answered 200 `[]`."""
    foreign = offer_factories.template(shared_world.foreign_partner, name="Foreign bundle")
    own = offer_factories.template(shared_world.partner, name="Own bundle")
    client = _api(shared_world.partner_owner)
    org = shared_world.partner.public_id
    response = client.get(reverse("offer-template-item-api-list", kwargs={"org": org, "template_id": foreign.pk}))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    unknown = client.get(reverse("offer-template-item-api-list", kwargs={"org": org, "template_id": 2**31 - 1}))
    assert unknown.status_code == 404
    listed = client.get(reverse("offer-template-item-api-list", kwargs={"org": org, "template_id": own.pk}))
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == list(
        own.items.order_by("position", "id").values_list("pk", flat=True)
    )


def test_accepting_an_unknown_release_token_is_404_like_detail_and_decline(shared_world):
    client = _api(shared_world.agency_owner)
    kwargs = {"token": "no-such-token"}
    for body in ({}, {"organization": shared_world.agency.public_id}):
        response = client.post(reverse("delegation-release-api-accept", kwargs=kwargs), body, format="json")
        assert response.status_code == 404 and response.json()["error"]["code"] == "invalid_link", response.content
    assert client.get(reverse("delegation-release-api-detail", kwargs=kwargs)).status_code == 404
    assert client.post(reverse("delegation-release-api-decline", kwargs=kwargs)).status_code == 404


def test_the_read_only_organization_switcher_answers_post_405(shared_world, client):
    client.force_login(shared_world.partner_owner)
    assert client.get(reverse("organization-switcher")).status_code == 200
    assert client.post(reverse("organization-switcher")).status_code == 405
