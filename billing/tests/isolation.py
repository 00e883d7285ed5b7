"""URL-kwarg factories for the generic isolation tests (tests/test_isolation.py)."""

from decimal import Decimal

from django.utils import timezone

from billing.models import Subscription
from billing.services import add_months
from offers.models import Product
from tests.isolation import object_factory


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
