"""URL-kwarg factories for the generic isolation tests (tests/test_isolation.py)."""

from decimal import Decimal

from django.utils import timezone

from billing.models import Subscription
from billing.services import add_months
from invoices.models import Invoice, PaymentMethod
from offers.models import Product
from tests.isolation import object_factory

from .factories import customer, issue, line


@object_factory("subscription_id")
def subscription_in(organization, owner):
    """An active booking of a product of its own for `organization`, paid by itself (one product
    per call: a product is booked once per org, and the walker may ask several times)."""
    sku = f"ISO-{Product.objects.count() + 1}-{organization.pk}"
    product = Product.objects.create(
        sku=sku, kind="module", name_en="Module", name_de="Modul", list_price=Decimal("9.90")
    )
    now = timezone.now()
    return Subscription.objects.create(
        organization=organization,
        payer=organization,
        product=product,
        source=Subscription.Source.DIRECT_ORDER,
        status=Subscription.Status.ACTIVE,
        quantity=2,
        unit_price=Decimal("9.90"),
        term_months=12,
        starts_at=now,
        term_ends_at=add_months(now, 12),
    ).pk


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
