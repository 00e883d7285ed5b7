"""Issue 16, "First steps" and "Wording": the sole Owner is not offered Remove on herself, the
customer page has one danger zone instead of two red buttons side by side, audit values read in the
reader's language, and the German words the issue names."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from organizations.models import Membership
from organizations.roles import OrgRole
from portal.audit import audit_record
from tests import factories

pytestmark = pytest.mark.django_db


def members_page(client, organization) -> str:
    return client.get(reverse("member-list", kwargs={"org": organization.public_id})).content.decode()


def remove_url(organization, user) -> str:
    membership = Membership.objects.get(organization=organization, user=user)
    return reverse("member-remove", kwargs={"org": organization.public_id, "member_id": membership.pk})


def test_sole_owner_is_not_offered_remove_on_herself(client):
    customer = factories.OrganizationFactory()
    owner = factories.member(customer, OrgRole.OWNER)
    colleague = factories.member(customer, OrgRole.MEMBER)
    client.force_login(owner)
    html = members_page(client, customer)
    assert remove_url(customer, owner) not in html
    assert remove_url(customer, colleague) in html  # others stay removable
    assert "The only Owner. To leave or change this role, make someone else Owner first." in html
    assert f'id="role-{Membership.objects.get(user=owner).pk}"' not in html  # no demotion offered either


def test_with_two_owners_each_may_be_removed(client):
    customer = factories.OrganizationFactory()
    owner = factories.member(customer, OrgRole.OWNER)
    second = factories.member(customer, OrgRole.OWNER)
    client.force_login(owner)
    html = members_page(client, customer)
    assert remove_url(customer, owner) in html and remove_url(customer, second) in html
    assert "The only Owner" not in html


def test_removing_the_sole_owner_says_why_and_offers_no_button(client):
    customer = factories.OrganizationFactory()
    owner = factories.member(customer, OrgRole.OWNER)
    client.force_login(owner)
    page = client.get(remove_url(customer, owner)).content.decode()
    assert "is the only Owner. An organization needs at least one Owner" in page
    assert '<button type="submit" class="primary">Remove</button>' not in page
    # a POST anyway is refused by the service, with the reason on the members page
    response = client.post(remove_url(customer, owner), follow=True)
    assert "An organization needs at least one Owner. Make someone else Owner first." in response.content.decode()
    assert Membership.objects.filter(organization=customer, user=owner).exists()


def test_customer_page_has_one_danger_zone_without_two_red_buttons(client):
    partner = factories.PartnerFactory()
    owner = factories.member(partner, OrgRole.OWNER)
    customer = factories.OrganizationFactory(name="Kunde AG")
    factories.link(partner, customer)
    client.force_login(owner)
    html = client.get(
        reverse("customer-detail", kwargs={"org": partner.public_id, "customer": customer.public_id})
    ).content.decode()
    assert html.count("Danger zone") == 1
    assert len(re.findall(r'class="[^"]*\bbtn-danger\b', html.split("<dialog")[0])) == 0
    assert not re.search(r'class="(button )?danger"', html)
    assert html.count("btn-outline-danger") == 1  # ending the relation, behind a confirmation
    assert 'data-confirm-dialog="end-relation"' in html and '<dialog id="end-relation"' in html
    assert "Delete (archive)…" in html  # archiving confirms on its own page
    assert "The customer keeps its organization and its own accounts." in html


def test_audit_trail_shows_values_in_the_readers_language(client):
    customer = factories.OrganizationFactory(country="DE")
    owner = factories.member(customer, OrgRole.OWNER, language="de")
    audit_record(
        action="organization.changed",
        target=customer,
        actor=owner,
        before={"country": "AT"},
        after={"country": "DE"},
    )
    audit_record(
        action="membership.changed",
        target=Membership.objects.get(user=owner),
        actor=owner,
        organization=customer,
        before={"role": "admin"},
        after={"role": "owner"},
    )
    client.force_login(owner)
    html = client.get(
        reverse("audit-trail", kwargs={"org": customer.public_id}), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Österreich → Deutschland" in html
    assert "Administrator → Inhaber" in html
    assert "Organisationsdaten geändert" in html  # the action's label
    assert ">AT<" not in html and "admin → owner" not in html


def test_audit_numbers_read_in_the_readers_notation():
    from portal.audit import display_value

    with translation.override("de"):
        assert display_value(None, "unit_price", "1234.50") == "1234,50"
    with translation.override("en"):
        assert display_value(None, "unit_price", "1234.50") == "1234.50"


@pytest.mark.parametrize(
    ("msgid", "german"),
    [
        ("Create a customer", "Kunde anlegen"),
        ("Create the customer", "Kunde anlegen"),
        ("Open requests", "Offene Anträge"),
    ],
)
def test_german_wording_of_issue_16(msgid, german):
    with translation.override("de"):
        assert gettext(msgid) == german


def test_german_bulk_offer_wording_says_jede():
    with translation.override("de"):
        text = gettext(
            "Each one receives its own offer; sending runs in the background and you can follow its progress."
        )
    assert text.startswith("Jede erhält")
