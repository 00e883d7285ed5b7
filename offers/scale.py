"""Bulk offers for `manage.py seed_scale`: 20 offers per customer (200,000 for 10,000 customers)
with two items each, in every state, sent over two years, plus one template – rows for the offer
lists, the customer badge, the API and the admin at scale. Idempotent: tops up to the target."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from portal.scale import analyze, copy_insert, spread

from .demo import seed_catalog
from .models import Offer, OfferItem, OfferTemplate, OfferTemplateItem

OFFERS_PER_CUSTOMER = 20
TEMPLATE = "Scale-Paket"
STATUSES = [
    Offer.Status.WAITING_FOR_CONFIRMATION,
    Offer.Status.ACCEPTED,
    Offer.Status.DECLINED,
    Offer.Status.CANCELLED,
    Offer.Status.ACCEPTED,
    Offer.Status.WAITING_FOR_CONFIRMATION,
    Offer.Status.ACCEPTED,
]


def _offer(n: int, *, partner, customers, template, now) -> Offer:
    status = STATUSES[n % len(STATUSES)]
    sent = spread(n, now=now)
    decided = sent + timedelta(days=1 + n % 9)
    return Offer(
        partner=partner,
        customer_id=customers[n % len(customers)].pk,
        template=template,
        title=TEMPLATE,
        status=status,
        created_at=sent,
        delivered_at=sent + timedelta(seconds=2),
        decided_at=decided if status in (Offer.Status.ACCEPTED, Offer.Status.DECLINED) else None,
        cancelled_at=decided if status == Offer.Status.CANCELLED else None,
    )


def seed_scale(*, partner, customers, projects, users, accounts, scale, stdout) -> None:
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
    now = timezone.now()
    copy_insert(
        Offer,
        (_offer(n, partner=partner, customers=customers, template=template, now=now) for n in range(existing, target)),
    )
    itemless = Offer.objects.filter(partner=partner, template=template, items__isnull=True).values_list("id", flat=True)
    copy_insert(
        OfferItem,
        (
            OfferItem(
                offer_id=offer_id,
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
            for offer_id in list(itemless)
            for n, p in enumerate(products, 1)
        ),
    )
    analyze(Offer, OfferItem)
    stdout.write(f"{Offer.objects.filter(partner=partner).count()} offers of {partner.name}")
