"""Bulk offers for `manage.py seed_scale`: 20 offers per customer (200,000 for 10,000 customers)
with two items each, in every state, plus one template – rows for the offer lists, the customer
badge, the API and the admin at scale. Idempotent: tops up to the target count."""

from __future__ import annotations

from decimal import Decimal
from itertools import cycle

from django.utils import timezone

from .demo import seed_catalog
from .models import Offer, OfferItem, OfferTemplate, OfferTemplateItem

OFFERS_PER_CUSTOMER = 20
BATCH = 2000
TEMPLATE = "Scale-Paket"


def seed_scale(*, partner, customers, projects, users, stdout) -> None:
    products = list(seed_catalog().values())[:2]
    template, created = OfferTemplate.objects.get_or_create(partner=partner, name=TEMPLATE)
    if created:
        OfferTemplateItem.objects.bulk_create(
            [
                OfferTemplateItem(
                    template=template,
                    product=p,
                    quantity=5,
                    term_months=p.term_months,
                    unit_price=p.list_price,
                    position=n,
                )
                for n, p in enumerate(products, 1)
            ]
        )
    target = len(customers) * OFFERS_PER_CUSTOMER
    existing = Offer.objects.filter(partner=partner, template=template).count()
    statuses = cycle(
        [
            Offer.Status.WAITING_FOR_CONFIRMATION,
            Offer.Status.ACCEPTED,
            Offer.Status.DECLINED,
            Offer.Status.CANCELLED,
            Offer.Status.WAITING_FOR_CONFIRMATION,
        ]
    )
    now = timezone.now()
    customer_cycle = cycle(customers)
    remaining = max(0, target - existing)
    while remaining:
        size = min(BATCH, remaining)
        offers = Offer.objects.bulk_create(
            [
                Offer(
                    partner=partner,
                    customer=next(customer_cycle),
                    template=template,
                    title=TEMPLATE,
                    status=next(statuses),
                    created_at=now,
                    delivered_at=now,
                )
                for _ in range(size)
            ]
        )
        OfferItem.objects.bulk_create(
            [
                OfferItem(
                    offer=offer,
                    product=p,
                    kind=p.kind,
                    sku=p.sku,
                    name_en=p.name_en,
                    name_de=p.name_de,
                    list_price=p.list_price,
                    purchase_price=(p.list_price * Decimal("0.8")).quantize(Decimal("0.01")),
                    quantity=5,
                    term_months=p.term_months,
                    unit_price=p.list_price,
                    position=n,
                )
                for offer in offers
                for n, p in enumerate(products, 1)
            ],
            batch_size=BATCH * 2,
        )
        remaining -= size
    stdout.write(f"{Offer.objects.filter(partner=partner).count()} offers of {partner.name}")
