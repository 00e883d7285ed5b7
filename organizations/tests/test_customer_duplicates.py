"""Issue 16: duplicate warnings when a partner creates a customer – same VAT ID, same name (any
case) or same contact email as an existing customer of this partner (or any org for the VAT ID).
Without "create anyway" nothing is created; page and API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizations.models import Invitation, Organization
from portal.errors import Conflict

from ..services.relations import customer_create
from .conftest import ctx
from .test_customer_create import DETAILS, _create

pytestmark = pytest.mark.django_db


@pytest.fixture
def existing(world):
    """Neu GmbH, created by the partner with contact chefin@neu.example and a VAT ID."""
    return _create(world).customer


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"name": "NEU gmbh", "vat_id": "", "contact_email": "other@x.example"}, "name"),
        ({"name": "Anders AG", "contact_email": "other@x.example"}, "vat_id"),
        ({"name": "Anders AG", "vat_id": "", "contact_email": "CHEFIN@neu.example"}, "contact_email"),
    ],
)
def test_issue16_duplicate_customer_is_refused_with_the_matches(world, existing, overrides, reason):
    before = Organization.objects.count()
    with pytest.raises(Conflict) as error:
        _create(world, **overrides)
    assert error.value.code == "possible_duplicate"
    [match] = error.value.details["duplicates"]
    assert (match["identifier"], match["name"], match["reasons"]) == (existing.public_id, "Neu GmbH", [reason])
    assert Organization.objects.count() == before
    # confirmed: created
    relation = _create(world, create_anyway=True, **overrides)
    assert relation.customer.name == overrides["name"]


def test_issue16_vat_id_of_an_org_that_is_not_the_partners_customer_is_named_only_as_such(world):
    Organization.objects.filter(pk=world.foreign_customer.pk).update(vat_id="DE136695976")
    with pytest.raises(Conflict) as error:
        _create(world)
    assert error.value.details["duplicates"] == [
        {"identifier": None, "name": None, "status": None, "reasons": ["vat_id_elsewhere"]}
    ]


def test_issue16_a_different_customer_is_created_without_warning(world, existing):
    relation = _create(world, name="Ganz Anders AG", vat_id="", contact_email="neu@anders.example")
    assert relation.customer.name == "Ganz Anders AG"


def test_issue16_another_partners_customer_of_that_name_is_no_duplicate(world):
    customer_create(
        context=ctx(world.foreign_owner, world.foreign_partner),
        actor=world.foreign_owner,
        name="Neu GmbH",
        contact_email="x@fremd.example",
        contact_first_name="X",
        contact_last_name="Y",
    )
    assert _create(world, vat_id="").customer.name == "Neu GmbH"


def _page_data(**overrides):
    data = {
        **DETAILS,
        "contact_first_name": "Nora",
        "contact_last_name": "Neu",
        "contact_email": "chefin@neu.example",
        "contact_language": "en",
    }
    data.update(overrides)
    return data


def test_issue16_page_warns_with_links_and_creates_only_when_confirmed(world, existing, client):
    client.force_login(world.partner_owner)
    url = reverse("customer-create", kwargs={"org": world.partner.public_id})
    page = client.get(url).content.decode()
    assert 'type="hidden" name="create_anyway"' in page  # not offered before a warning
    response = client.post(url, _page_data(name="neu gmbh"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "This customer may exist already" in page
    detail = reverse("customer-detail", kwargs={"org": world.partner.public_id, "customer": existing.public_id})
    assert f'href="{detail}"' in page and "same name, same VAT ID, same contact email" in page
    assert 'type="checkbox" name="create_anyway"' in page
    assert Organization.objects.filter(name__iexact="neu gmbh").count() == 1
    response = client.post(url, _page_data(name="neu gmbh", create_anyway="on"))
    assert response.status_code == 302
    assert Organization.objects.filter(name__iexact="neu gmbh").count() == 2
    assert Invitation.objects.filter(email="chefin@neu.example").count() == 2


def test_issue16_page_warning_in_german(world, existing, client):
    world.partner_owner.language = "de"
    world.partner_owner.save(update_fields=["language"])
    client.force_login(world.partner_owner)
    url = reverse("customer-create", kwargs={"org": world.partner.public_id})
    page = client.post(url, _page_data()).content.decode()
    assert "Diesen Kunden gibt es vielleicht schon" in page and "Trotzdem anlegen" in page


def test_issue16_api_answers_409_with_the_matches_and_creates_with_create_anyway(world, existing, api_client):
    api_client.force_login(world.partner_admin)
    url = reverse("customer-api-list", kwargs={"org": world.partner.public_id})
    payload = {**DETAILS, "contact": {"email": "other@neu.example", "first_name": "N", "last_name": "N"}}
    response = api_client.post(url, payload, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "possible_duplicate" and "may exist already" in error["message"]
    assert error["details"]["duplicates"] == [
        {"identifier": existing.public_id, "name": "Neu GmbH", "status": "active", "reasons": ["name", "vat_id"]}
    ]
    assert Organization.objects.filter(name="Neu GmbH").count() == 1
    response = api_client.post(url, {**payload, "create_anyway": True}, format="json")
    assert response.status_code == 201
    assert Organization.objects.filter(name="Neu GmbH").count() == 2
    response = api_client.post(url, {**payload, "create_anyway": "maybe"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["details"]["create_anyway"]
