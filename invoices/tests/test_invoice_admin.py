"""Support reads invoices in the admin; nothing there changes them (BIL-5, ORG-9)."""

from __future__ import annotations

import pytest

from invoices.models import Invoice, PaymentMethod
from tests import factories

from .factories import customer, issue, line

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    return client


def test_invoices_are_read_only_in_the_admin(admin_client):
    recipient = customer(name="Direkt GmbH")
    [invoice] = issue(line(recipient))
    changelist = admin_client.get("/admin/invoices/invoice/")
    assert changelist.status_code == 200 and invoice.number in changelist.content.decode()
    page = admin_client.get(f"/admin/invoices/invoice/{invoice.pk}/change/")
    assert page.status_code == 200
    assert b'name="net_total"' not in page.content and b"Save" not in page.content
    response = admin_client.post(f"/admin/invoices/invoice/{invoice.pk}/change/", {"net_total": "1.00"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/invoices/invoice/{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/invoices/invoice/add/").status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).net_total == invoice.net_total


def test_payment_methods_show_only_the_masked_iban_in_the_admin(admin_client):
    organization = customer()
    method = PaymentMethod.objects.create(
        organization=organization,
        kind=PaymentMethod.Kind.SEPA_DIRECT_DEBIT,
        iban="DE89370400440532013000",
        mandate_reference="RP-TEST-1",
        account_holder="Direkt GmbH",
    )
    page = admin_client.get(f"/admin/invoices/paymentmethod/{method.pk}/change/").content.decode()
    assert "DE89 **** **** **** **30 00" in page
    assert "DE89370400440532013000" not in page
    listing = admin_client.get("/admin/invoices/paymentmethod/").content.decode()
    assert "0532013000" not in listing


def test_the_support_group_reads_invoices_and_payment_methods_without_the_demo(client):
    """The permissions come from invoices/support.py through the sync after every migrate."""
    from organizations.support import support_group_sync

    support = factories.UserFactory(is_staff=True)
    support.groups.add(support_group_sync())
    client.force_login(support)
    recipient = customer(name="Direkt GmbH")
    [invoice] = issue(line(recipient))
    assert invoice.number in client.get("/admin/invoices/invoice/").content.decode()
    assert client.get(f"/admin/invoices/invoice/{invoice.pk}/change/").status_code == 200
    assert client.get("/admin/invoices/paymentmethod/").status_code == 200
    assert client.post(f"/admin/invoices/invoice/{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
