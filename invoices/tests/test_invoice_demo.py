"""seed_demo: an issued invoice to Demo Partner GmbH and one to Direkt GmbH, idempotently."""

import pytest

from invoices.models import Invoice, PaymentMethod
from portal.management.commands.seed_demo import seed_all

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_invoice_to_the_partner_and_one_to_the_direct_customer():
    seed_all()
    seed_all()  # idempotent
    invoices = {invoice.recipient.name: invoice for invoice in Invoice.objects.select_related("recipient")}
    assert set(invoices) == {"Demo Partner GmbH", "Direkt GmbH"}
    partner_invoice = invoices["Demo Partner GmbH"]
    assert {line.customer.name for line in partner_invoice.lines.select_related("customer")} == {"Demo Kunde AG"}
    assert partner_invoice.gross_total > 0 and partner_invoice.vat_rate == 19
    assert "SEPA" in partner_invoice.payment_method_text or "SEPA-Lastschrift" in partner_invoice.payment_method_text
    assert PaymentMethod.objects.count() == 2


def test_the_demo_partner_finds_the_invoice_in_the_customer_org(client):
    demo = seed_all()
    client.force_login(demo["users"]["partner"])
    customer = demo["orgs"]["customer"]
    page = client.get(f"/o/{customer.public_id}/settings/invoices/")
    assert page.status_code == 200
    assert Invoice.objects.get(recipient=demo["orgs"]["partner"]).number in page.content.decode()
    # BIL-8: the customer's own Owner reads the invoices addressed to its org (none), never the partner's
    client.force_login(demo["users"]["customer"])
    own = client.get(f"/o/{customer.public_id}/settings/invoices/")
    assert own.status_code == 200
    assert Invoice.objects.get(recipient=demo["orgs"]["partner"]).number not in own.content.decode()
