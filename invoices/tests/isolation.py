"""URL-kwarg factories for the generic isolation tests (tests/test_isolation.py)."""

from invoices.models import Invoice, PaymentMethod
from tests.isolation import object_factory

from .factories import customer, issue, line


@object_factory("invoice_id")
def invoice_of(organization, owner):
    """An invoice to `organization` (a partner's with a section for a customer of its own)."""
    existing = Invoice.objects.filter(recipient=organization).first()  # issuing twice issues nothing
    if existing is not None:
        return existing.pk
    [invoice] = issue(line(organization, customer(name="Isolation Kunde GmbH")))
    return invoice.pk


@object_factory("payment_method_id")
def payment_method_of(organization, owner):
    return PaymentMethod.objects.create(organization=organization, kind=PaymentMethod.Kind.BANK_TRANSFER).pk
