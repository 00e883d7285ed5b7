"""Reads of offers: tenancy restrictions, lists, the customer badge, catalog search.

Sides: inside a *partner* org a user sees the offers that org sent and its templates; inside a *customer* org
the offers that org received – never templates, never another customer's offers. Which side a
request is on decides the representation too (partner conditions only on the partner side).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from organizations.models import Organization
from organizations.roles import OrgKind
from organizations.selectors import organization_search, organization_search_q
from portal.errors import InvalidInput
from portal.tenancy import OrgContext, Scope, active_reseller_relations, restrict, restriction

from .models import (
    Offer,
    OfferBulkSend,
    OfferItem,
    OfferTemplate,
    OfferTemplateItem,
    PartnerCondition,
    Product,
    WebhookEndpoint,
    partner_price,
)

MONEY = DecimalField(max_digits=16, decimal_places=2)


def side_of(context: OrgContext | None) -> str | None:
    """ "partner" or "customer": which side of offers the org in the URL stands on."""
    if context is None:
        return None
    return "partner" if context.organization.kind == OrgKind.PARTNER else "customer"


@restriction(Offer)
def offer_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    context = scope.context
    if context is None:
        return queryset.none()
    organization = context.organization
    if side_of(context) == "customer":
        # Customers see an offer once it was delivered to them (OFR-4) – not while it is on its way.
        return queryset.filter(customer=organization, delivered_at__isnull=False)
    # The partner's own records: every partner role reads them; sending and cancelling need
    # Owner/Admin (`offers.send`). Partner staff inside a customer org see the customer's side.
    return queryset.filter(partner=organization)


@restriction(OfferItem)
def offer_item_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    offers = offer_restrict(Offer.objects.all(), scope=scope, action=action)
    return queryset.filter(offer__in=offers)


@restriction(OfferTemplate)
def offer_template_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    if side_of(scope.context) != "partner":
        return queryset.none()  # customers never see templates
    return queryset.filter(partner=scope.context.organization)


@restriction(OfferTemplateItem)
def offer_template_item_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    if side_of(scope.context) != "partner":
        return queryset.none()
    return queryset.filter(template__partner=scope.context.organization)


@restriction(OfferBulkSend)
def offer_bulk_send_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    if side_of(scope.context) != "partner":
        return queryset.none()
    return queryset.filter(partner=scope.context.organization)


@restriction(WebhookEndpoint)
def webhook_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    if scope.context is None:
        return queryset.none()
    return queryset.filter(organization=scope.context.organization)


# --- lists ----------------------------------------------------------------------------------------


def _line_total(prefix: str = "items__") -> ExpressionWrapper:
    return ExpressionWrapper(
        F(f"{prefix}unit_price") * F(f"{prefix}quantity") * F(f"{prefix}term_months"), output_field=MONEY
    )


@dataclass(frozen=True)
class OfferFilters:
    """What an offer list may be narrowed by – the same for the page and the API."""

    status: str = ""
    search: str = ""  # part of the title or of the customer's name
    customer: str = ""  # a customer org's public identifier (the partner side)

    @classmethod
    def from_params(cls, params, *, search_param: str = "search") -> OfferFilters:
        status = (params.get("status") or "").strip()
        if status and status not in Offer.Status.values:
            raise InvalidInput(_("Unknown status."), field="status")
        return cls(
            status=status,
            search=(params.get(search_param) or "").strip()[:100],
            customer=(params.get("customer") or "").strip()[:20].upper(),
        )


def offer_list(*, scope: Scope, filters: OfferFilters = OfferFilters(), with_totals: bool = True) -> QuerySet:
    """The one offer list (page and API): what `scope`'s org sent or received, narrowed by
    `filters`, with item count and total in the same query (constant queries per page).

    Scale (issue 13): count and total are correlated subqueries, not a JOIN + GROUP BY, so
    PostgreSQL computes them after ORDER BY … LIMIT for the page's rows only, and the paginator's
    COUNT(*) (Django drops unused annotations) has no GROUP BY and no items at all. `with_totals=False`:
    without them (the API sums its prefetched items)."""
    queryset = restrict(Offer.objects.all(), scope)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.search:
        # the title, or the customer as every org search finds it: name or identifier
        customer = organization_search_q(filters.search, prefix="customer__")
        queryset = queryset.filter(Q(title__icontains=filters.search) | customer)
    if filters.customer:
        queryset = queryset.filter(customer__public_id=filters.customer)
    queryset = queryset.select_related("partner", "customer").order_by("-created_at", "-id")
    if not with_totals:
        return queryset
    items = OfferItem.objects.filter(offer=OuterRef("pk")).order_by().values("offer")
    return queryset.annotate(
        item_count=Coalesce(Subquery(items.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0)),
        total=Coalesce(
            Subquery(items.annotate(sum=Sum(_line_total(""))).values("sum"), output_field=MONEY),
            Value(Decimal("0")),
            output_field=MONEY,
        ),
    )


def offer_items(*, offer: Offer) -> list[OfferItem]:
    return list(offer.items.select_related("product").order_by("position", "id"))


def offer_total(items: list) -> Decimal:
    return sum((item.total_price for item in items), Decimal("0.00"))


def offers_awaiting_confirmation_count(context: OrgContext | None) -> int:
    """The red badge in a customer org's navigation (OFR-6): offers waiting for its decision."""
    if context is None or side_of(context) != "customer" or not context.has("offers.view"):
        return 0
    return restrict(Offer.objects.all(), Scope(user=context.user, context=context)).awaiting_confirmation().count()


def offer_template_list(*, queryset: QuerySet) -> QuerySet:
    return queryset.annotate(item_count=Count("items")).order_by("name", "id")


@dataclass(frozen=True)
class ItemConditions:
    """The partner's side of one item (never shown to customers): what it pays and keeps."""

    partner_price: Decimal  # per licence and month, after the partner's discount
    margin: Decimal  # selling price − partner price, per licence and month
    margin_percent: Decimal | None  # of the selling price; None when the selling price is 0
    partner_total: Decimal  # over quantity and term
    margin_total: Decimal


def item_conditions(item, *, discount: Decimal) -> ItemConditions:
    """For a template item (list price from the product) or an offer item (its recorded prices)."""
    purchase = getattr(item, "purchase_price", None)
    if purchase is None:
        purchase = partner_price(list_price=item.product.list_price, discount_percent=discount)
    margin = item.unit_price - purchase
    units = item.quantity * item.term_months
    return ItemConditions(
        partner_price=purchase,
        margin=margin,
        margin_percent=(margin * 100 / item.unit_price).quantize(Decimal("0.1")) if item.unit_price else None,
        partner_total=(purchase * units).quantize(Decimal("0.01")),
        margin_total=(margin * units).quantize(Decimal("0.01")),
    )


def offer_template_items(*, template: OfferTemplate, with_conditions: bool = False) -> list[OfferTemplateItem]:
    """The template's items in order; `with_conditions` adds `.conditions` (partner price, margin)."""
    items = list(template.items.select_related("product").order_by("position", "id"))
    if with_conditions and items:
        discount = partner_discount_percent(partner=template.partner)
        for item in items:
            item.conditions = item_conditions(item, discount=discount)
    return items


def conditions_totals(items) -> dict:
    """Sums over items that carry `.conditions`: selling, partner and margin totals."""
    selling = sum((item.total_price for item in items), Decimal("0.00"))
    partner_total = sum((item.conditions.partner_total for item in items), Decimal("0.00"))
    return {"selling": selling, "partner": partner_total, "margin": selling - partner_total}


def customers_of_partner(*, partner: Organization, query: str = "") -> QuerySet[Organization]:
    """The active customer orgs with an active relation to `partner` (OFR-3): whom it may send to."""
    relations = active_reseller_relations(OuterRef("pk")).filter(partner=partner)
    customers = Organization.objects.active().filter(kind=OrgKind.CUSTOMER).filter(Exists(relations))
    # the organization search of the whole portal: name, identifier with or without "ORG-"
    return organization_search(customers, query).order_by("name", "id")


def product_search(*, query: str, limit: int = 20, template: OfferTemplate | None = None) -> list[Product]:
    """Active catalog products matching SKU or either name (the template's search field, OFR-2).

    With `template`, each product carries `in_template` (already an item: it cannot be added again)."""
    query = (query or "").strip()[:100]
    products = Product.objects.filter(is_active=True)
    if query:
        products = products.filter(Q(sku__icontains=query) | Q(name_en__icontains=query) | Q(name_de__icontains=query))
    if template is not None:
        products = products.annotate(
            in_template=Exists(OfferTemplateItem.objects.filter(template=template, product=OuterRef("pk")))
        )
    return list(products.order_by("sku")[:limit])


def partner_discount_percent(*, partner: Organization) -> Decimal:
    """The partner's discount on list prices: per-partner override, else tier, else none (OFR-1)."""
    condition = PartnerCondition.objects.select_related("tier").filter(partner=partner).first()
    return condition.discount_percent if condition else Decimal("0")


def webhook_for(*, organization: Organization) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(organization=organization).first()
