"""ORG-2: a partner creates a customer org with a contact person invited as Owner."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizations.models import AuditEvent, CustomerRelation, Invitation, Organization, User
from organizations.roles import OrgRole
from portal.errors import InvalidInput, NotFound, PermissionDenied
from portal.hooks import EVENTS
from portal.tenancy import org_context_for

from ..services.relations import customer_create
from .conftest import ctx, send_outbox

pytestmark = pytest.mark.django_db

DETAILS = dict(name="Neu GmbH", street="Neuweg 1", postcode="10115", city="Berlin", country="DE", vat_id="DE136695976")


def _create(world, actor=None, **overrides):
    actor = actor or world.partner_admin
    arguments = dict(
        DETAILS,
        contact_email="Chefin@Neu.example",
        contact_first_name="Nora",
        contact_last_name="Neu",
        contact_language="de",
    )
    arguments.update(overrides)
    return customer_create(context=ctx(actor, world.partner), actor=actor, **arguments)


def test_partner_admin_creates_customer_with_active_relation_and_owner_invitation(world):
    relation = _create(world)
    customer = relation.customer
    assert (customer.name, customer.kind, customer.vat_id) == ("Neu GmbH", "customer", "DE136695976")
    assert relation.status == CustomerRelation.Status.ACTIVE and relation.partner == world.partner
    invitation = Invitation.objects.get(organization=customer)
    assert (invitation.email, invitation.role, invitation.status) == ("chefin@neu.example", OrgRole.OWNER, "pending")
    [email] = send_outbox()
    assert email.to == ["chefin@neu.example"] and "Neu GmbH" in email.subject
    # the partner's staff reach the new customer at once (ORG-4)
    assert org_context_for(world.partner_owner, customer.public_id).acting_as_partner
    actions = set(AuditEvent.objects.filter(organization=customer).values_list("action", flat=True))
    assert {"organization.created", "customer_relation.created", "invitation.created"} <= actions


def test_the_organization_created_hook_runs_for_billing_trials(world, monkeypatch):
    from portal import hooks

    seen = []
    monkeypatch.setitem(hooks._HOOKS, "organization.created", [lambda **kw: seen.append(kw["organization"].name)])
    _create(world)
    assert seen == ["Neu GmbH"]
    assert "organization.created" in EVENTS


def test_initial_password_instead_of_the_link(world):
    _create(world, contact_initial_password="Sehr-geheim-2026!")
    user = User.objects.get(email="chefin@neu.example")
    assert user.must_change_password and user.check_password("Sehr-geheim-2026!")
    [email] = send_outbox()
    assert "Sehr-geheim-2026!" not in email.body


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"vat_id": "DE136695977"}, "vat_id", "not a valid VAT ID for Germany"),
        ({"postcode": "ABC"}, "postcode", "is not a postcode in Germany"),
        ({"name": "  "}, "name", "Enter the company name."),
        ({"contact_email": ""}, "contact_email", "Enter the contact person's email address."),
        ({"contact_email": "not-an-email"}, "email", ""),
    ],
)
def test_bad_input_creates_nothing(world, overrides, field, message):
    before = Organization.objects.count()
    with pytest.raises(InvalidInput) as error:
        _create(world, **overrides)
    assert message in error.value.message
    assert Organization.objects.count() == before
    assert not CustomerRelation.objects.filter(customer__name="Neu GmbH").exists()


@pytest.mark.parametrize("role", ["partner_member", "partner_guest"])
def test_partner_members_and_guests_may_not_create_customers(world, role):
    with pytest.raises(PermissionDenied):
        _create(world, actor=getattr(world, role))


def test_customers_cannot_create_customers(world):
    with pytest.raises(NotFound):
        customer_create(
            context=ctx(world.customer_owner, world.customer),
            actor=world.customer_owner,
            name="X",
            contact_email="x@example.com",
            contact_first_name="X",
            contact_last_name="Y",
        )


def test_page_creates_the_customer_and_shows_errors(world, client):
    client.force_login(world.partner_owner)
    url = reverse("customer-create", kwargs={"org": world.partner.public_id})
    assert client.get(url).status_code == 200
    data = {
        **DETAILS,
        "contact_first_name": "Nora",
        "contact_last_name": "Neu",
        "contact_email": "nora@neu.example",
        "contact_language": "en",
    }
    response = client.post(url, {**data, "vat_id": "DE1"})
    assert response.status_code == 200 and "not a valid VAT ID for Germany" in response.content.decode()
    response = client.post(url, data)
    customer = Organization.objects.get(name="Neu GmbH")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "customer-detail", kwargs={"org": world.partner.public_id, "customer": customer.public_id}
    )


def test_api_creates_the_customer(world, api_client):
    api_client.force_login(world.partner_admin)
    url = reverse("customer-api-list", kwargs={"org": world.partner.public_id})
    payload = {**DETAILS, "contact": {"email": "nora@neu.example", "first_name": "Nora", "last_name": "Neu"}}
    response = api_client.post(url, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Neu GmbH"
    response = api_client.post(url, {**payload, "vat_id": "DE136695977"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["details"]["vat_id"]
    api_client.force_login(world.partner_member)
    assert api_client.post(url, payload, format="json").status_code == 403
