"""BIL-6: SEPA direct debit (validated IBAN, mandate, masked) or bank transfer; partner-only (ORG-6)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoices.models import PaymentMethod
from invoices.services.payment_methods import payment_method_add, payment_method_remove, payment_method_set_default
from organizations.models import AuditEvent
from organizations.roles import OrgRole
from portal.errors import InvalidInput, NotFound, PermissionDenied
from portal.tenancy import org_context_for_organization
from tests import factories

from .factories import customer, issue, line, partner

pytestmark = pytest.mark.django_db

IBAN = "DE89 3704 0044 0532 0130 00"
MASKED = "DE89 **** **** **** **30 00"


@pytest.fixture
def direct():
    organization = customer(name="Direkt GmbH")
    owner = factories.member(organization, OrgRole.OWNER)
    return organization, owner, org_context_for_organization(owner, organization)


def sepa(context, owner, iban=IBAN, **kwargs):
    fields = {"account_holder": "Direkt GmbH", "iban": iban, "accept_mandate": True, **kwargs}
    return payment_method_add(context=context, kind=PaymentMethod.Kind.SEPA_DIRECT_DEBIT, actor=owner, **fields)


def test_sepa_direct_debit_stores_the_iban_compact_and_shows_it_masked(direct):
    organization, owner, context = direct
    method = sepa(context, owner, bic="cobadeffxxx")
    assert method.iban == "DE89370400440532013000" and method.bic == "COBADEFFXXX"
    assert method.masked_iban == MASKED and str(method) == f"SEPA direct debit {MASKED}"
    assert method.mandate_reference.startswith("RP-") and len(method.mandate_reference) <= 35
    assert method.is_default  # the first method becomes the default
    event = AuditEvent.objects.get(action="payment_method.added")
    assert event.after["iban"] == MASKED and "0532013000" not in str(event.after) + event.target_repr


@pytest.mark.parametrize(
    "iban, message",
    [
        ("DE89 3704 0044 0532 0130 01", "check digits do not match"),
        ("DE89370400440532013", "check digits do not match"),
        ("DE8937040044053201300012", "check digits do not match"),
        ("not an iban", "This is not an IBAN"),
        ("", "Enter the IBAN"),
        ("BR1500000000000010932840814P2", "SEPA area"),
    ],
)
def test_a_bad_iban_is_refused_with_a_clear_message(direct, iban, message):
    organization, owner, context = direct
    with pytest.raises(InvalidInput) as error:
        sepa(context, owner, iban=iban)
    assert message in error.value.message and error.value.field == "iban"
    assert not PaymentMethod.objects.exists()


def test_direct_debit_needs_the_mandate_and_an_account_holder(direct):
    organization, owner, context = direct
    with pytest.raises(InvalidInput) as error:
        sepa(context, owner, accept_mandate=False)
    assert error.value.field == "accept_mandate"
    with pytest.raises(InvalidInput) as error:
        sepa(context, owner, account_holder=" ")
    assert error.value.field == "account_holder"
    with pytest.raises(InvalidInput) as error:
        sepa(context, owner, bic="NOTABIC")
    assert error.value.field == "bic"


def test_default_switching_and_removal(direct):
    organization, owner, context = direct
    debit = sepa(context, owner)
    transfer = payment_method_add(context=context, kind="bank_transfer", actor=owner)
    assert not transfer.is_default
    payment_method_set_default(context=context, payment_method_id=transfer.pk, actor=owner)
    assert list(PaymentMethod.objects.filter(is_default=True)) == [transfer]
    with pytest.raises(InvalidInput):
        payment_method_add(context=context, kind="bank_transfer", actor=owner)
    payment_method_remove(context=context, payment_method_id=transfer.pk, actor=owner)
    assert PaymentMethod.objects.get(pk=transfer.pk).removed_at is not None
    with pytest.raises(NotFound):
        payment_method_set_default(context=context, payment_method_id=transfer.pk, actor=owner)
    assert PaymentMethod.objects.get(pk=debit.pk).removed_at is None


def test_another_orgs_payment_method_is_not_found(direct):
    organization, owner, context = direct
    other = customer(name="Fremd GmbH")
    foreign = PaymentMethod.objects.create(organization=other, kind="bank_transfer", is_default=True)
    with pytest.raises(NotFound):
        payment_method_remove(context=context, payment_method_id=foreign.pk, actor=owner)


def test_a_member_and_a_linked_customers_owner_may_not_manage_payment_methods(direct):
    organization, _owner, _context = direct
    member = factories.member(organization, OrgRole.MEMBER)
    with pytest.raises(PermissionDenied):
        payment_method_add(
            context=org_context_for_organization(member, organization), kind="bank_transfer", actor=member
        )
    reseller, linked = partner(), customer(name="Kunde AG")
    factories.link(reseller, linked)
    linked_owner = factories.member(linked, OrgRole.OWNER)
    with pytest.raises(NotFound):  # ORG-6: hidden, not merely forbidden
        payment_method_add(
            context=org_context_for_organization(linked_owner, linked), kind="bank_transfer", actor=linked_owner
        )
    partner_owner = factories.member(reseller, OrgRole.OWNER)
    in_customer = payment_method_add(
        context=org_context_for_organization(partner_owner, linked), kind="bank_transfer", actor=partner_owner
    )
    assert in_customer.organization == linked
    assert not PaymentMethod.objects.filter(organization=organization).exists()


def test_the_invoice_names_the_default_payment_method_masked(direct):
    organization, owner, context = direct
    method = sepa(context, owner)
    [invoice] = issue(line(organization))
    assert MASKED in invoice.payment_method_text and method.mandate_reference in invoice.payment_method_text
    assert "0532013000" not in invoice.payment_method_text


def test_the_page_adds_a_method_and_shows_a_bad_iban_as_a_form_error(direct, client):
    organization, owner, context = direct
    client.force_login(owner)
    url = reverse("payment-method-list", kwargs={"org": organization.public_id})
    bad = client.post(
        url,
        {
            "kind": "sepa_direct_debit",
            "account_holder": "Direkt GmbH",
            "iban": "DE00 1234 5678 9012 3456 78",
            "accept_mandate": "on",
        },
    )
    assert bad.status_code == 200 and "This IBAN is not valid" in bad.content.decode()
    good = client.post(
        url,
        {
            "kind": "sepa_direct_debit",
            "account_holder": "Direkt GmbH",
            "iban": IBAN,
            "accept_mandate": "on",
            "make_default": "on",
        },
    )
    assert good.status_code == 302
    page = client.get(url).content.decode()
    assert MASKED in page and "0532013000" not in page
    method = PaymentMethod.objects.get()
    assert (
        client.post(
            reverse("payment-method-remove", kwargs={"org": organization.public_id, "payment_method_id": method.pk})
        ).status_code
        == 302
    )
    assert not PaymentMethod.objects.filter(removed_at__isnull=True).exists()


def test_the_api_adds_lists_and_removes_without_ever_returning_the_iban(direct, client):
    organization, owner, context = direct
    client.force_login(owner)
    url = f"/api/v1/organizations/{organization.public_id}/payment-methods/"
    bad = client.post(
        url,
        {"kind": "sepa_direct_debit", "account_holder": "X", "iban": "DE89370400440532013001", "accept_mandate": True},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "check digits" in bad.content.decode()
    created = client.post(
        url,
        {"kind": "sepa_direct_debit", "account_holder": "Direkt GmbH", "iban": IBAN, "accept_mandate": True},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["masked_iban"] == MASKED
    listing = client.get(url)
    assert "0532013000" not in listing.content.decode() and listing.json()["results"][0]["is_default"]
    transfer = client.post(url, {"kind": "bank_transfer"}, content_type="application/json").json()
    assert client.post(f"{url}{transfer['id']}/default/").json()["is_default"] is True
    assert client.delete(f"{url}{transfer['id']}/").status_code == 204
    assert client.delete(f"{url}{transfer['id']}/").status_code == 404
