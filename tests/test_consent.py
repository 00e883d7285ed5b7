"""Issue 11, item 4: "Partner staff can consent in the customer's name."

Consent the portal asks of a customer – accepting or declining an offer, a delegation request or a
connection request – comes only from the customer's own Owners and Admins. Partner staff acting
inside the linked customer (as Admin) get 403 with a clear message in the API and the browser, see
no Accept/Decline buttons but a note, and the customer's own managers still decide.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from delegations.models import Delegation
from delegations.tests import factories as df
from offers.models import Offer
from offers.tests import factories as of
from organizations.models import CustomerRelation
from organizations.roles import CAPABILITIES, OrgRole
from portal.tenancy import org_context_for_organization
from tests import factories
from tests.world import build_world

pytestmark = pytest.mark.django_db

MESSAGE_EN = "Only the customer's own Owners and Admins can decide this."
MESSAGE_DE = "Nur die eigenen Inhaber und Administratoren des Kunden können das entscheiden."


@pytest.fixture
def world(db):
    """The shared world (tests/world.py), with a German-speaking partner Admin."""
    world = build_world(
        caretaker=False,
        languages={"partner_admin": "de"},
        accounts=("partner_owner", "partner_admin", "customer_owner", "customer_admin"),
    )
    world.partner_admin_de = world.partner_admin
    return world


def _offer(world) -> Offer:
    return of.offer(world["partner"], world["customer"], tmpl=of.template(world["partner"], products=[of.product()]))


def _delegation_request(world) -> Delegation:
    return df.request(factories.project(world["customer"], "Webshop"), world["agency"])


def _connection_request(world) -> CustomerRelation:
    other = factories.PartnerFactory(name="Andere Partner GmbH")
    return CustomerRelation.objects.create(
        partner=other, customer=world["customer"], status=CustomerRelation.Status.REQUESTED
    )


# (name, make the object, API path after /api/v1/organizations/<customer>/, page URL name, URL kwarg, status field)
DECISIONS = [
    ("offer-accept", _offer, "offers/{id}/accept/", "offer-accept", "offer_id"),
    ("offer-decline", _offer, "offers/{id}/decline/", "offer-decline", "offer_id"),
    ("delegation-accept", _delegation_request, "delegations/{id}/accept/", "delegation-accept", "delegation_id"),
    ("delegation-decline", _delegation_request, "delegations/{id}/decline/", "delegation-decline", "delegation_id"),
    ("delegation-block", _delegation_request, "delegations/{id}/block/", "delegation-block", "delegation_id"),
    ("connection-accept", _connection_request, "connection-requests/{id}/accept/", "connection-accept", "relation_id"),
    (
        "connection-decline",
        _connection_request,
        "connection-requests/{id}/decline/",
        "connection-decline",
        "relation_id",
    ),
]
CASES = [pytest.param(*case, id=case[0]) for case in DECISIONS]


def _status(obj) -> str:
    obj.refresh_from_db()
    return obj.status


def test_item_4_the_role_table_marks_the_decisions_as_consent():
    for capability in ("offers.decide", "requests.decide"):
        assert CAPABILITIES[capability].consent, capability
    assert not CAPABILITIES["requests.view"].consent  # partner staff still see the Open requests page


@pytest.mark.parametrize("name, make, api_path, page, kwarg", CASES)
def test_item_4_partner_staff_get_403_in_the_api(world, api_client, name, make, api_path, page, kwarg):
    obj = make(world)
    before = _status(obj)
    url = f"/api/v1/organizations/{world['customer'].public_id}/{api_path.format(id=obj.pk)}"
    assert org_context_for_organization(world["partner_owner"], world["customer"]).acting_as_partner
    api_client.force_authenticate(world["partner_owner"])
    response = api_client.post(url, {}, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["error"] == {"code": "customer_decides", "message": MESSAGE_EN, "details": None}
    api_client.force_authenticate(world["partner_admin_de"])
    response = api_client.post(url, {}, format="json")
    assert response.status_code == 403 and response.json()["error"]["message"] == MESSAGE_DE
    assert _status(obj) == before


@pytest.mark.parametrize("name, make, api_path, page, kwarg", CASES)
def test_item_4_partner_staff_get_403_in_the_browser(world, client, name, make, api_path, page, kwarg):
    obj = make(world)
    before = _status(obj)
    client.force_login(world["partner_owner"])
    response = client.post(reverse(page, kwargs={"org": world["customer"].public_id, kwarg: obj.pk}))
    assert response.status_code == 403
    assert escape(MESSAGE_EN) in response.content.decode()
    assert _status(obj) == before


@pytest.mark.parametrize("name, make, api_path, page, kwarg", CASES)
@pytest.mark.parametrize("who", ["customer_owner", "customer_admin"])
def test_item_4_the_customers_own_managers_still_decide(world, api_client, name, make, api_path, page, kwarg, who):
    obj = make(world)
    if name == "connection-accept":  # a customer has one reseller at a time: end the current one first
        CustomerRelation.objects.filter(customer=world["customer"], status=CustomerRelation.Status.ACTIVE).update(
            status=CustomerRelation.Status.ENDED
        )
    api_client.force_authenticate(world[who])
    url = f"/api/v1/organizations/{world['customer'].public_id}/{api_path.format(id=obj.pk)}"
    response = api_client.post(url, {}, format="json")
    assert response.status_code in (200, 201), response.content
    expected = {"accept": {"accepted", "active"}, "decline": {"declined"}, "block": {"declined"}}[name.split("-")[1]]
    assert _status(obj) in expected


def test_item_4_partner_staff_see_a_note_instead_of_the_buttons(world, client):
    offer = _offer(world)
    delegation = _delegation_request(world)
    org = world["customer"].public_id
    client.force_login(world["partner_owner"])
    for url, action in (
        (
            reverse("offer-detail", kwargs={"org": org, "offer_id": offer.pk}),
            reverse("offer-accept", kwargs={"org": org, "offer_id": offer.pk}),
        ),
        (
            reverse("delegation-detail", kwargs={"org": org, "delegation_id": delegation.pk}),
            reverse("delegation-accept", kwargs={"org": org, "delegation_id": delegation.pk}),
        ),
        (
            reverse("open-requests", kwargs={"org": org}),
            reverse("delegation-accept", kwargs={"org": org, "delegation_id": delegation.pk}),
        ),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert action not in html, url
        assert 'data-testid="consent-note"' in html, url
    client.force_login(world["customer_owner"])  # the customer's own Owner gets the buttons
    html = client.get(
        reverse("delegation-detail", kwargs={"org": org, "delegation_id": delegation.pk})
    ).content.decode()
    assert reverse("delegation-accept", kwargs={"org": org, "delegation_id": delegation.pk}) in html
    assert 'data-testid="consent-note"' not in html


def test_item_4_a_partner_member_assigned_to_the_customer_is_refused_too(world, api_client):
    offer = _offer(world)
    member = factories.member(world["partner"], OrgRole.MEMBER)
    factories.assign(member, world["partner"], world["customer"])
    api_client.force_authenticate(member)
    response = api_client.post(
        f"/api/v1/organizations/{world['customer'].public_id}/offers/{offer.pk}/accept/", {}, format="json"
    )
    assert response.status_code == 403
    assert _status(offer) == Offer.Status.WAITING_FOR_CONFIRMATION
