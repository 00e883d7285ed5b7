"""Reads of subscriptions, decided in SQL (BIL-1 … BIL-4, ORG-6).

- `subscription_restrict` is the tenancy restriction of `Subscription`: inside an org only with
  "billing.view" there (ORG-6: never the customer's own accounts of a partner-linked org); across
  orgs (`/api/v1/subscriptions/`) the orgs where the user holds "billing.view"
  (`portal.tenancy.capability_q`, the SQL form of the same rule).
- `billable_lines(period_start, period_end)` is what the monthly invoice run collects: per
  (recipient org, customer org) the lines to invoice, in a constant number of queries.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from offers.models import Product
from organizations.models import Organization
from portal.tenancy import Scope, capability_q, restriction

from .models import Subscription
from .money import ZERO, line_amount

Source = Subscription.Source


# --- tenancy -----------------------------------------------------------------------------------


@restriction(Subscription)
def subscription_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    capability = "billing.manage" if action == "change" else "billing.view"
    if scope.context is not None:
        if not scope.context.has(capability):
            return queryset.none()
        return queryset.filter(organization=scope.context.organization)
    return queryset.filter(capability_q(scope.user, capability, prefix="organization__"))


def subscription_list(*, queryset: QuerySet | None = None, at=None) -> QuerySet:
    """Subscriptions with `current_status` and what their pages show, without per-row queries."""
    queryset = queryset if queryset is not None else Subscription.objects.all()
    return (
        queryset.with_current_status(at)
        .select_related("product", "payer", "organization", "parent__product", "project")
        .order_by("parent_id", "-created_at", "-id")
    )


def licences_in_force(*, organization: Organization, product: Product | None = None, at=None) -> int:
    """Licences the org holds now (BIL-2: an expired trial never counts, job or not)."""
    queryset = Subscription.objects.in_force(at).filter(organization=organization)
    if product is not None:
        queryset = queryset.filter(product=product)
    return queryset.aggregate(total=Sum("quantity"))["total"] or 0


def bookable_products() -> QuerySet[Product]:
    """What the booking form offers: every available catalog product (trial licences aside)."""
    from .services import TRIAL_PRODUCT_SKU

    return Product.objects.filter(is_active=True).exclude(sku=TRIAL_PRODUCT_SKU).order_by("kind", "sku")


def service_products() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True, kind=Product.Kind.SERVICE).order_by("sku")


# --- BIL-5 contract: what the monthly run invoices ---------------------------------------------


@dataclass(frozen=True)
class BillableLine:
    """One invoice line: `quantity` licences of `product` at the net monthly `unit_price`, in force
    from `period_start` to `period_end` (inclusive dates); `amount` = quantity × unit price, pro
    rata by days for part of the period, rounded half-up to cents once (BIL-7)."""

    subscription_id: int
    product: Product
    quantity: int
    unit_price: Decimal
    period_start: date
    period_end: date
    amount: Decimal
    source: str
    project_number: str | None = None


@dataclass
class BillableGroup:
    """Everything one recipient is invoiced for one customer org in the period."""

    recipient: Organization
    customer: Organization
    lines: list[BillableLine] = field(default_factory=list)

    @property
    def net_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def billable_lines(
    period_start: date, period_end: date, *, recipient: Organization | None = None
) -> Iterator[BillableGroup]:
    """The monthly run's collection (BIL-5): per (recipient org, customer org), ordered by
    recipient and customer, the lines for every paid subscription in force at some time between
    `period_start` and `period_end` (inclusive dates, the portal's time zone).

    One query (streamed with a server-side cursor), whatever the number of orgs. Trials and other
    free subscriptions produce no lines. A subscription in force for part of the period is
    charged pro rata by days. Lines of one group are ordered by product SKU, then subscription.
    """
    if period_end < period_start:
        raise ValueError("period_end lies before period_start")
    window_start, window_end = _local_start(period_start), _local_start(period_end + timedelta(days=1))
    period_days = (period_end - period_start).days + 1
    queryset = (
        Subscription.objects.filter(
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.CANCELLED, Subscription.Status.EXPIRED],
            unit_price__gt=0,
            starts_at__lt=window_end,
        )
        .exclude(source=Source.TRIAL)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=window_start))
        .select_related("product", "payer", "organization", "project")
        .order_by("payer__name", "payer_id", "organization__name", "organization_id", "product__sku", "id")
    )
    if recipient is not None:
        queryset = queryset.filter(payer=recipient)

    def lines_of(subscriptions) -> Iterator[tuple[tuple, Subscription, BillableLine]]:
        for subscription in subscriptions:
            first = max(period_start, _local_day(subscription.starts_at))
            last = (
                period_end
                if subscription.ends_at is None
                else min(period_end, _local_day(subscription.ends_at - timedelta(microseconds=1)))
            )
            if last < first:
                continue
            days = (last - first).days + 1
            line = BillableLine(
                subscription_id=subscription.pk,
                product=subscription.product,
                quantity=subscription.quantity,
                unit_price=subscription.unit_price,
                period_start=first,
                period_end=last,
                amount=line_amount(
                    quantity=subscription.quantity,
                    unit_price=subscription.unit_price,
                    days=days,
                    period_days=period_days,
                ),
                source=subscription.source,
                project_number=subscription.project.number if subscription.project_id else None,
            )
            yield (subscription.payer_id, subscription.organization_id), subscription, line

    for _key, rows in itertools.groupby(lines_of(queryset.iterator(chunk_size=2000)), key=lambda row: row[0]):
        rows = list(rows)
        first_subscription = rows[0][1]
        yield BillableGroup(
            recipient=first_subscription.payer,
            customer=first_subscription.organization,
            lines=[line for _k, _s, line in rows],
        )
