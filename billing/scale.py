"""Bulk subscriptions for `manage.py seed_scale`: every customer of the scale partner has its
trial and a partner booking of one module (invoiced to the partner, booked over the past year),
so the subscription pages, the API and the monthly invoice run have 10,000 customers' worth of
rows (the partner's large invoice is seeded by `invoices/scale.py`). Idempotent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from offers.models import Product
from organizations.models import Organization
from portal.scale import analyze, spread

from .models import Subscription
from .services import add_months, subscription_flags_refresh_all, trial_product, unit_price_for

BATCH = 2000
SKU = "SCALE-MODULE"


def seed_scale(*, partner, customers, projects, users, accounts, scale, stdout) -> None:
    product, _created = Product.objects.get_or_create(
        sku=SKU,
        defaults=dict(
            kind=Product.Kind.MODULE,
            name_en="Scale module",
            name_de="Skalierungsmodul",
            term_months=12,
            list_price=Decimal("12.90"),
        ),
    )
    trial = trial_product()
    price = unit_price_for(product=product, payer=partner)
    now = timezone.now()
    with_trial = set(
        Subscription.objects.filter(source=Subscription.Source.TRIAL).values_list("organization_id", flat=True)
    )
    booked = set(Subscription.objects.filter(product=product, payer=partner).values_list("organization_id", flat=True))
    rows = []
    for index, customer in enumerate(customers):
        if customer.pk not in with_trial:
            rows.append(
                Subscription(
                    organization=customer,
                    payer=customer,
                    product=trial,
                    source=Subscription.Source.TRIAL,
                    status=Subscription.Status.TRIAL,
                    quantity=settings.TRIAL_LICENSES,
                    unit_price=Decimal("0.00"),
                    term_months=1,
                    renews=False,
                    starts_at=now,
                    term_ends_at=now + timedelta(days=settings.TRIAL_DAYS),
                    ends_at=now + timedelta(days=settings.TRIAL_DAYS),
                )
            )
        if customer.pk not in booked:
            start = spread(index, now=now - timedelta(days=40), days=320)
            rows.append(
                Subscription(
                    organization=customer,
                    payer=partner,
                    product=product,
                    source=Subscription.Source.PARTNER_ORDER,
                    status=Subscription.Status.ACTIVE,
                    quantity=1 + index % 5,
                    unit_price=price,
                    term_months=12,
                    starts_at=start,
                    term_ends_at=add_months(start, 12),
                    created_at=start,
                )
            )
    Subscription.objects.bulk_create(rows, batch_size=BATCH)
    analyze(Subscription)
    # the customer table's stored flags, as the minute job would have computed them
    subscription_flags_refresh_all()
    analyze(Organization)
    stdout.write(f"{Subscription.objects.filter(payer=partner).count()} subscriptions invoiced to {partner.name}")
