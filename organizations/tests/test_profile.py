"""ORG-1: organization profile – address, VAT ID per country, billing address, identifier."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from organizations.models import AuditEvent, Organization, generate_public_id
from organizations.validators import vat_id_normalize
from portal.errors import InvalidInput, PermissionDenied

from ..services.profile import organization_update
from .conftest import ctx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "vat_id, country, expected",
    [
        ("DE136695976", "DE", "DE136695976"),
        ("de 136 695 976", "DE", "DE136695976"),
        ("136695976", "DE", "DE136695976"),  # prefix added
        ("ATU13585627", "AT", "ATU13585627"),
        ("EL094259216", "GR", "EL094259216"),  # Greece uses EL
        ("CHE-116.281.710 MWST", "CH", "CHE116281710MWST"),  # non-EU country with a stdnum module
        ("", "DE", ""),
    ],
)
def test_valid_vat_ids_are_normalized(vat_id, country, expected):
    assert vat_id_normalize(vat_id, country) == expected


@pytest.mark.parametrize(
    "vat_id, country, message",
    [
        ("DE136695977", "DE", "is not a valid VAT ID for Germany"),  # wrong check digit
        ("FR40303265045", "DE", "A VAT ID from Germany starts with DE, not FR"),
        ("ATU1358562", "AT", "is not a valid VAT ID for Austria"),
        ("CHE-116.281.711", "CH", "is not a valid VAT ID for Switzerland"),
        ("12", "US", "does not look like a VAT ID"),
        ("DE136695976", "", "Choose the country first"),
    ],
)
def test_wrong_vat_ids_get_a_clear_message(vat_id, country, message):
    with pytest.raises(ValidationError) as error:
        vat_id_normalize(vat_id, country)
    assert message in error.value.messages[0]


def test_identifier_is_random_readable_and_not_a_sequence():
    ids = {generate_public_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"ORG-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", value) for value in ids)


def test_update_by_owner_saves_normalized_values_and_records_the_change(world):
    organization = organization_update(
        context=ctx(world.direct_owner, world.direct),
        actor=world.direct_owner,
        name="Direkt GmbH & Co. KG",
        street="Neue Straße 1",
        postcode="50667",
        city="Köln",
        country="DE",
        vat_id="de136695976",
    )
    organization.refresh_from_db()
    assert (organization.name, organization.vat_id) == ("Direkt GmbH & Co. KG", "DE136695976")
    event = AuditEvent.objects.filter(action="organization.changed", organization=organization).get()
    assert event.actor == world.direct_owner
    assert event.before["name"] == "Direkt GmbH" and event.after["name"] == "Direkt GmbH & Co. KG"


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"vat_id": "DE136695977"}, "vat_id", "not a valid VAT ID for Germany"),
        ({"postcode": "1234"}, "postcode", "is not a postcode in Germany"),
        ({"billing_address_is_invoice_recipient": True}, "billing_name", "Complete the billing address"),
        ({"billing_city": "Berlin"}, "billing_name", "Complete the billing address"),
        ({"country": "XX"}, "country", "not a valid choice"),
        ({"name": ""}, "name", "cannot be blank"),
    ],
)
def test_bad_input_is_refused_with_a_message_at_the_field(world, fields, field, message):
    with pytest.raises(InvalidInput) as error:
        organization_update(context=ctx(world.direct_owner, world.direct), actor=world.direct_owner, **fields)
    assert error.value.field == field
    assert message in error.value.message
    assert Organization.objects.get(pk=world.direct.pk).name == "Direkt GmbH"


def test_billing_address_as_invoice_recipient(world):
    organization = organization_update(
        context=ctx(world.direct_owner, world.direct),
        actor=world.direct_owner,
        billing_name="Direkt Buchhaltung",
        billing_street="Zahlweg 3",
        billing_postcode="10115",
        billing_city="Berlin",
        billing_country="DE",
        billing_email="rechnung@direkt.example",
        billing_address_is_invoice_recipient=True,
    )
    assert organization.invoice_address == {
        "name": "Direkt Buchhaltung",
        "street": "Zahlweg 3",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "email": "rechnung@direkt.example",
    }
    organization = organization_update(
        context=ctx(world.direct_owner, world.direct),
        actor=world.direct_owner,
        billing_address_is_invoice_recipient=False,
    )
    assert organization.invoice_address["name"] == "Direkt GmbH"


@pytest.mark.parametrize("role", ["customer_member", "customer_guest"])
def test_members_and_guests_cannot_change_the_profile(world, role):
    with pytest.raises(PermissionDenied):
        organization_update(context=ctx(getattr(world, role), world.customer), actor=getattr(world, role), name="X")


def test_partner_staff_acting_in_the_customer_may_change_it_and_are_recorded_as_such(world):
    organization_update(context=ctx(world.partner_admin, world.customer), actor=world.partner_admin, city="Bonn")
    event = AuditEvent.objects.get(action="organization.changed", organization=world.customer)
    assert event.acting_organization == world.partner


def test_profile_page_shows_errors_and_saves(world, client):
    client.force_login(world.direct_owner)
    url = reverse("organization-profile", kwargs={"org": world.direct.public_id})
    assert client.get(url).status_code == 200
    data = {
        "name": "Direkt GmbH",
        "street": "Direktallee 9",
        "postcode": "50667",
        "city": "Köln",
        "country": "DE",
        "vat_id": "DE136695977",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "is not a valid VAT ID for Germany" in response.content.decode()
    response = client.post(url, {**data, "vat_id": "DE136695976"})
    assert response.status_code == 302
    assert Organization.objects.get(pk=world.direct.pk).vat_id == "DE136695976"


def test_linked_customers_do_not_edit_the_billing_address_their_partner_does(world, client):
    client.force_login(world.customer_owner)
    url = reverse("organization-profile", kwargs={"org": world.customer.public_id})
    assert "billing_name" not in client.get(url).context["form"].fields
    client.force_login(world.partner_admin)
    assert "billing_name" in client.get(url).context["form"].fields


def test_profile_page_refuses_members(world, client):
    client.force_login(world.customer_member)
    assert client.get(reverse("organization-profile", kwargs={"org": world.customer.public_id})).status_code == 403


def test_api_patch_changes_the_profile_and_answers_400_for_a_wrong_vat_id(world, api_client):
    api_client.force_login(world.direct_owner)
    url = reverse("organization-api-detail", kwargs={"org": world.direct.public_id})
    response = api_client.patch(url, {"vat_id": "DE136695977"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "vat_id": ["“DE136695977” is not a valid VAT ID for Germany. Check the digits."]
    }
    response = api_client.patch(url, {"vat_id": "DE136695976", "city": "Bonn", "postcode": "53111"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["vat_id"] == "DE136695976" and response.json()["role"] == "owner"
    api_client.force_login(world.customer_guest)
    response = api_client.patch(
        reverse("organization-api-detail", kwargs={"org": world.customer.public_id}), {"city": "X"}, format="json"
    )
    assert response.status_code == 403


def test_api_patch_of_support_contact_fields_needs_a_partner(world, api_client):
    api_client.force_login(world.direct_owner)
    url = reverse("organization-api-detail", kwargs={"org": world.direct.public_id})
    response = api_client.patch(url, {"support_email": "help@direkt.example"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Only partner organizations have a support contact."


def test_linked_customers_cannot_change_billing_through_the_api_either(world, api_client):
    api_client.force_login(world.customer_owner)
    url = reverse("organization-api-detail", kwargs={"org": world.customer.public_id})
    response = api_client.patch(url, {"billing_address_is_invoice_recipient": True, "billing_name": "X"}, format="json")
    assert response.status_code == 403
    assert (
        response.json()["error"]["message"]
        == "Your reseller receives your invoices; the billing address is set by Partner GmbH."
    )
    assert api_client.patch(url, {"city": "Bonn", "postcode": "53111"}, format="json").status_code == 200
    # the partner's staff may
    api_client.force_login(world.partner_admin)
    response = api_client.patch(url, {"billing_email": "rechnung@kunde.example"}, format="json")
    assert response.status_code == 200 and response.json()["billing_email"] == "rechnung@kunde.example"
