"""Reads of subscriptions, decided in SQL (BIL-1 … BIL-4, ORG-6).

- `subscription_restrict` is the tenancy restriction of `Subscription`: inside an org only with
  "billing.view" there (ORG-6: never the customer's own accounts of a partner-linked org); across
  orgs (`/api/v1/subscriptions/`) the orgs where the user holds "billing.view"
  (`portal.tenancy.capability_ids_q`, the indexed SQL form of the same rule).
- `billable_lines(period_start, period_end)` is what the monthly invoice run (invoices app)
  collects: the `BillableLine`s to invoice, in a constant number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Sum, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.utils import timezone

from offers.models import PartnerCondition, Product, partner_price
from organizations.models import Organization
from organizations.roles import OrgKind
from portal.tenancy import (
    Scope,
    capability_keys_q,
    capability_q,
    restriction,
)

from .models import ProductBilling, Subscription, SubscriptionTerm
from .money import line_amount, to_cents

Source = Subscription.Source


# --- tenancy -----------------------------------------------------------------------------------


@restriction(Subscription)
def subscription_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    capability = "billing.manage" if action == "change" else "billing.view"
    if scope.context is not None:
        if not scope.context.has(capability):
            return queryset.none()
        return queryset.filter(organization=scope.context.organization)
    # the hashed-key-set shape for a partner's Owner: a page in newest-first order walks
    # `subscription_newest_first` instead of joining all 20,000 subscriptions of the reach (issue 13)
    return queryset.filter(capability_keys_q(scope.user, capability, prefix="organization__"))


def subscription_restrict_few(queryset: QuerySet, *, user, action: str = "view") -> QuerySet:
    """`subscription_restrict` across orgs for a look-up of one row (a detail by id): the same rule
    in its per-row form (`capability_q`: one EXISTS per row on indexed keys). The indexed form
    first lists every org the user reaches – 10,000 for a partner's Owner (issue 13)."""
    capability = "billing.manage" if action == "change" else "billing.view"
    return queryset.filter(capability_q(user, capability, prefix="organization__"))


# Each add-on right under its own main subscription: families newest first (by the main
# subscription's id, so no sort over the parent join: issue 13), the main subscription first
# within its family (issue 16: an add-on showed under another one).
FAMILY_ORDER = ("-family", F("parent_id").asc(nulls_first=True), "-created_at", "-id")


def subscription_list(*, queryset: QuerySet | None = None, at=None) -> QuerySet:
    """Subscriptions with `current_status` and what their pages show, without per-row queries."""
    queryset = queryset if queryset is not None else Subscription.objects.all()
    return (
        queryset.with_current_status(at)
        # ProductBilling is prefetched, not joined: one more join passes PostgreSQL's
        # join_collapse_limit (8) and the plan no longer starts from the user's orgs (issue 13).
        .select_related("product", "payer", "organization", "parent__product", "project")
        .prefetch_related("product__billing")
        .annotate(family=Coalesce("parent_id", "id"))
        .order_by(*FAMILY_ORDER)
    )


# What a row of a subscription table shows (billing/_subscription_rows.html): the subscription's
# own columns, its product, its main subscription's product and its project's number.
PAGE_ROW_FIELDS = (
    "organization_id",
    "payer_id",
    "product__kind",
    "product__sku",
    "product__name_en",
    "product__name_de",
    "parent__product__name_en",
    "parent__product__name_de",
    "project__number",
    "source",
    "status",
    "quantity",
    "unit_price",
    "renews",
    "starts_at",
    "term_ends_at",
    "ends_at",
    "created_at",
)


def subscription_page_rows(*, queryset: QuerySet, at=None) -> QuerySet:
    """`queryset` (an org's subscriptions) as the org's subscription table shows them, in the order
    of `subscription_list`. Issue 13: neither the org (the page's own) nor the payer (not in the
    rows) is joined, and of the joined rows only the columns shown are read – seven joined tables
    took longer to plan (~2 ms) than a page of rows to read."""
    return (
        queryset.with_current_status(at)
        .select_related("product", "parent__product", "project")
        .only(*PAGE_ROW_FIELDS)
        .prefetch_related("product__billing")
        .annotate(family=Coalesce("parent_id", "id"))
        .order_by(*FAMILY_ORDER)
    )


def project_service_rows(*, project, at=None) -> QuerySet:
    """The services ordered for `project` as its services page shows them (PRJ-5: product,
    quantity, monthly amount, status, start), in the order of `subscription_list`; only the
    product joined (issue 13)."""
    return (
        Subscription.objects.filter(project=project)
        .with_current_status(at)
        .select_related("product")
        .only(
            "organization_id",
            "product__sku",
            "product__name_en",
            "product__name_de",
            "parent_id",
            "status",
            "quantity",
            "unit_price",
            "starts_at",
            "ends_at",
            "created_at",
        )
        .annotate(family=Coalesce("parent_id", "id"))
        .order_by(*FAMILY_ORDER)
    )


def subscription_detail(*, queryset: QuerySet, at=None) -> QuerySet:
    """`queryset` (restricted to the page's org) for the page of one subscription: what the page
    shows joined – product, payer, main subscription's product, project – but not the org, the
    page's own (the caller sets it); unordered (issue 13: a look-up by id needs no sort). Whole
    models: the quantity change and the cancellation work on the same row."""
    return (
        queryset.with_current_status(at)
        .select_related("product", "payer", "parent__product", "project")
        .prefetch_related("product__billing")
        .order_by()
    )


def subscription_add_ons(subscription: Subscription, *, at=None) -> list[Subscription]:
    """The add-ons of `subscription` as `subscription_list` shows them (same order: newest first),
    without joining what they share with it – their org and their parent are `subscription`
    itself (issue 13: half the joins of the detail page's second query)."""
    rows = list(
        subscription.add_ons.with_current_status(at)
        .select_related("product", "payer", "project")
        .prefetch_related("product__billing")
        .order_by("-created_at", "-id")
    )
    for row in rows:
        row.parent = subscription
        row.organization = subscription.organization
    return rows


# What the API shows of a subscription (billing.api.serializers.SubscriptionSerializer): the
# subscription's own columns and the few of its orgs, product and project.
API_ROW_FIELDS = (
    "organization__public_id",
    "organization__name",
    "payer__public_id",
    "payer__name",
    "product__sku",
    "product__name_en",
    "product__name_de",
    "product__kind",
    "parent_id",
    "project__number",
    "source",
    "status",
    "quantity",
    "unit_price",
    "term_months",
    "license_mode",
    "renews",
    "starts_at",
    "term_ends_at",
    "ends_at",
    "cancelled_at",
    "created_at",
)


def subscription_api_rows(*, queryset: QuerySet, at=None) -> QuerySet:
    """`queryset` shaped for the API's representation: `current_status` and exactly the columns
    the serializer reads (issue 13: loading five whole joined models per row – 150 columns – and
    the product's billing was most of a page's time). Unordered; the caller orders."""
    return (
        queryset.with_current_status(at)
        .select_related("organization", "payer", "product", "project")
        .only(*API_ROW_FIELDS)
        .order_by()
    )


# The same as plain values, for the list (`subscription_rows`).
API_VALUES = ("id", "current_status", *API_ROW_FIELDS)


def subscription_rows(pks: list[int], *, at=None) -> list[dict]:
    """The subscriptions `pks` (a page of ids from a restricted, filtered and ordered list) as
    plain rows of `API_VALUES` for the API's list (`billing.api.serializers.subscription_rows_data`),
    in the order of `pks`: one query for the page.

    Issue 13: a partner's Owner reaches 20,000 subscriptions across 10,000 orgs; paging the bare
    ids first and joining product, orgs and project for the page only keeps the joins off every
    row the sort has to look at. Plain rows: a read-only page needs no model instances (five per
    row with the joined ones)."""
    if not pks:
        return []
    rows = {
        row["id"]: row
        for row in Subscription.objects.filter(pk__in=pks).with_current_status(at).order_by().values(*API_VALUES)
    }
    return [rows[pk] for pk in pks if pk in rows]


def _unit_expression():
    """The unit a subscription's quantity counts in, in SQL (see billing.units.unit_of)."""
    by_kind = Case(
        When(product__kind=Product.Kind.SERVICE, then=Value(ProductBilling.Unit.SERVICE)),
        default=Value(ProductBilling.Unit.LICENCE),
    )
    return Coalesce("product__billing__unit", by_kind, output_field=CharField())


def quantities_in_force(*, organization: Organization, product: Product | None = None, at=None) -> dict[str, int]:
    """What the org holds now per unit (`{"licence": 5, "gb_storage": 20}`), in one query.

    BIL-2: an expired trial never counts, job or not. Storage packs count in GB (quantity ×
    units per quantity), so they never inflate the number of licences."""
    queryset = Subscription.objects.in_force(at).filter(organization=organization)
    if product is not None:
        queryset = queryset.filter(product=product)
    rows = (
        queryset.annotate(unit=_unit_expression(), size=Coalesce("product__billing__unit_size", Value(1)))
        .values("unit")
        .annotate(total=Sum(F("quantity") * F("size")))
        .order_by("unit")
    )
    return {row["unit"]: row["total"] or 0 for row in rows}


def licences_in_force(*, organization: Organization, product: Product | None = None, at=None) -> int:
    """Licences the org holds now – licences only, not GB of storage or services."""
    return quantities_in_force(organization=organization, product=product, at=at).get(ProductBilling.Unit.LICENCE, 0)


def bookable_products(*, parent: Subscription | None = None) -> QuerySet[Product]:
    """What the booking form offers: the available catalog products (trial licences aside).

    For an add-on to `parent`: only the products the catalog names as add-ons to the parent's
    product (`ProductBilling.add_on_to`). Otherwise only main products: an add-on is booked to
    the subscription it belongs to."""
    from .services import TRIAL_PRODUCT_SKU

    products = Product.objects.filter(is_active=True).exclude(sku=TRIAL_PRODUCT_SKU)
    if parent is not None:
        products = products.filter(billing__add_on_to=parent.product_id)
    else:
        products = products.exclude(billing__add_on_to__isnull=False)
    return products.select_related("billing").distinct().order_by("kind", "sku")


@dataclass(frozen=True)
class PriceQuote:
    """What a booking costs the payer (BIL-3, BIL-4): the list price, the partner's discount and
    the resulting net unit price per unit and month, and the month's net amount."""

    list_price: Decimal
    discount_percent: Decimal
    unit_price: Decimal
    quantity: int
    monthly_amount: Decimal
    list_monthly_amount: Decimal
    partner_conditions: bool

    @property
    def discount_amount(self) -> Decimal:
        return self.list_monthly_amount - self.monthly_amount


def partner_discount_for(payer: Organization) -> Decimal | None:
    """The partner's discount in percent (tier or individual, OFR-1); None for a non-partner payer."""
    if payer.kind != OrgKind.PARTNER:
        return None
    condition = PartnerCondition.objects.filter(partner=payer).select_related("tier").first()
    return Decimal(str(condition.discount_percent)) if condition is not None else Decimal("0")


def price_quote(*, product: Product, quantity: int, payer: Organization, discount_percent=None) -> PriceQuote:
    """The price `payer` pays for `quantity` of `product` (pass `discount_percent` from
    `partner_discount_for` to price many products with one query)."""
    if discount_percent is None:
        discount_percent = partner_discount_for(payer)
    list_price = Decimal(str(product.list_price))
    unit_price = partner_price(list_price=list_price, discount_percent=discount_percent or Decimal("0"))
    return PriceQuote(
        list_price=list_price,
        discount_percent=discount_percent or Decimal("0"),
        unit_price=unit_price,
        quantity=quantity,
        monthly_amount=line_amount(quantity=quantity, unit_price=unit_price),
        list_monthly_amount=line_amount(quantity=quantity, unit_price=list_price),
        partner_conditions=discount_percent is not None,
    )


def service_products() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True, kind=Product.Kind.SERVICE).order_by("sku")


# --- BIL-5 contract: what the monthly run invoices ---------------------------------------------


@dataclass(frozen=True)
class BillableLine:
    """One line the monthly run invoices (BIL-5) – the one contract between the subscriptions and
    the invoices app: `recipient_id` pays (BIL-4) for `quantity` licences of `product_id` used by
    `customer_id`, at the net monthly `unit_price` (Decimal, EUR), from `period_start` to
    `period_end` (inclusive dates).

    `amount` is the net amount where the source computed it (pro rata by days for part of the
    period), otherwise quantity × unit price; either way rounded half-up to cents once (BIL-7).
    The invoice prints the product's name in its language, followed by `project_number` for a
    service ordered for a project (PRJ-5); a line without a product prints `description`.
    """

    recipient_id: int
    customer_id: int
    product_id: int | None
    quantity: Decimal
    unit_price: Decimal
    period_start: date
    period_end: date
    amount: Decimal | None = None
    project_number: str = ""
    description: str = ""

    @property
    def net_amount(self) -> Decimal:
        if self.amount is not None:
            return to_cents(self.amount)
        return line_amount(quantity=self.quantity, unit_price=self.unit_price)


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


@dataclass(frozen=True)
class _State:
    valid_from: datetime
    valid_until: datetime | None
    quantity: int
    unit_price: Decimal
    payer_id: int


def _with_period_terms(subscriptions, window_start, window_end, chunk_size: int = 2000):
    """Attach `period_terms` (as the PostgreSQL array subquery gives them) one chunk at a time."""
    chunk = []
    for subscription in subscriptions:
        chunk.append(subscription)
        if len(chunk) == chunk_size:
            yield from _attach_period_terms(chunk, window_start, window_end)
            chunk = []
    yield from _attach_period_terms(chunk, window_start, window_end)


def _attach_period_terms(chunk, window_start, window_end):
    terms = defaultdict(list)
    rows = (
        SubscriptionTerm.objects.filter(subscription_id__in=[s.pk for s in chunk], valid_from__lt=window_end)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=window_start))
        .order_by("subscription_id", "valid_from")
    )
    for term in rows if chunk else []:
        terms[term.subscription_id].append(
            {
                "valid_from": term.valid_from.isoformat(),
                "valid_until": term.valid_until.isoformat() if term.valid_until else None,
                "quantity": term.quantity,
                "unit_price": str(term.unit_price),
                "payer_id": term.payer_id,
            }
        )
    for subscription in chunk:
        subscription.period_terms = terms[subscription.pk]
        yield subscription


def _states(subscription: Subscription) -> list[_State]:
    """The subscription's history rows overlapping the period (annotated by `billable_lines`);
    a row created outside the services (bulk seeds) without any history is one state."""
    if not subscription.has_terms:
        return [
            _State(
                subscription.starts_at,
                subscription.ends_at,
                subscription.quantity,
                subscription.unit_price,
                subscription.payer_id,
            )
        ]
    return [
        _State(
            datetime.fromisoformat(row["valid_from"]),
            datetime.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
            int(row["quantity"]),
            Decimal(row["unit_price"]),
            int(row["payer_id"]),
        )
        for row in subscription.period_terms or []
    ]


def segments(
    subscription: Subscription, states: list[_State], period_start: date, period_end: date
) -> Iterator[tuple[_State, date, date]]:
    """BIL-8: (state, first day, last day) for every state the subscription was in during the
    period. Days, in the portal's time zone: the subscription is billed for every day it was in
    force (its first and its last day included, as always); a change bills the whole day it
    takes effect on at the new state – an upgrade at once, the previous state up to the day before.
    Two changes on one day: the later one counts."""
    stop = subscription.ends_at
    for index, state in enumerate(states):
        start = max(state.valid_from, subscription.starts_at)
        end = min(x for x in (state.valid_until, stop) if x is not None) if (state.valid_until or stop) else None
        if end is not None and end <= start:
            continue
        first = max(period_start, _local_day(start))
        last = period_end if end is None else min(period_end, _local_day(end - timedelta(microseconds=1)))
        if index + 1 < len(states):
            last = min(last, _local_day(states[index + 1].valid_from) - timedelta(days=1))
        if last < first:
            continue
        yield state, first, last


def billable_lines(
    period_start: date, period_end: date, *, recipient: Organization | None = None
) -> Iterator[BillableLine]:
    """The monthly run's collection (BIL-5, BIL-8): the lines for every paid subscription in force
    at some time between `period_start` and `period_end` (inclusive dates, the portal's time
    zone), ordered by (current) recipient, customer, product SKU and subscription.

    One line per state the subscription was in during the period (its `SubscriptionTerm` rows:
    quantity, unit price, payer), with that state's dates, charged pro rata by days (see
    `segments`). A segment goes to the payer of its state, so a payer switch on the 1st splits
    cleanly between two months' invoices.

    One query (streamed with a server-side cursor; the history rides along as an array
    subquery), whatever the number of orgs. Trials and other free states produce no lines.
    """
    if period_end < period_start:
        raise ValueError("period_end lies before period_start")
    window_start, window_end = _local_start(period_start), _local_start(period_end + timedelta(days=1))
    period_days = (period_end - period_start).days + 1
    in_window = SubscriptionTerm.objects.filter(subscription=OuterRef("pk"), valid_from__lt=window_end).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=window_start)
    )
    queryset = (
        Subscription.objects.filter(
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.CANCELLED, Subscription.Status.EXPIRED],
            starts_at__lt=window_end,
        )
        .exclude(source=Source.TRIAL)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=window_start))
        .filter(Q(unit_price__gt=0) | Exists(in_window.filter(unit_price__gt=0)))
        .annotate(
            has_terms=Exists(SubscriptionTerm.objects.filter(subscription=OuterRef("pk"))),
        )
        .select_related("project")
        .order_by("payer__name", "payer_id", "organization__name", "organization_id", "product__sku", "id")
    )
    postgres = connection.vendor == "postgresql"
    if postgres:
        # The history rides along as an array subquery: one query for the whole run.
        queryset = queryset.annotate(
            period_terms=ArraySubquery(
                in_window.order_by("valid_from").values(
                    json=JSONObject(
                        valid_from="valid_from",
                        valid_until="valid_until",
                        quantity="quantity",
                        # as text: a JSON number would come back as a float
                        unit_price=Cast("unit_price", TextField()),
                        payer_id="payer_id",
                    )
                )
            ),
        )
    if recipient is not None:
        queryset = queryset.filter(Q(payer=recipient) | Exists(in_window.filter(payer=recipient)))

    subscriptions = queryset.iterator(chunk_size=2000)
    if not postgres:  # SQLite, the embedded default: the history by one query per chunk
        subscriptions = _with_period_terms(subscriptions, window_start, window_end)
    for subscription in subscriptions:
        for state, first, last in segments(subscription, _states(subscription), period_start, period_end):
            if state.unit_price <= 0 or (recipient is not None and state.payer_id != recipient.pk):
                continue
            days = (last - first).days + 1
            yield BillableLine(
                recipient_id=state.payer_id,
                customer_id=subscription.organization_id,
                product_id=subscription.product_id,
                quantity=Decimal(state.quantity),
                unit_price=state.unit_price,
                period_start=first,
                period_end=last,
                amount=line_amount(
                    quantity=state.quantity, unit_price=state.unit_price, days=days, period_days=period_days
                ),
                project_number=subscription.project.number if subscription.project_id else "",
            )
