"""Demo subscriptions (see portal/management/commands/seed_demo.py); running twice adds nothing.

- every demo customer org has its trial (BIL-2);
- the catalog's add-ons: "Extra storage 10 GB" (counted in GB) to the Shop and the CRM module,
  the "Payment connector" to the Shop module only;
- Demo Partner GmbH booked for Demo Kunde AG the Shop module (3 licences) with the storage
  add-on (20 GB) and an SSL certificate for the project "Website Demo Kunde" – the partner pays at its
  Gold conditions (BIL-3, BIL-4, PRJ-5);
- Direkt GmbH (no reseller) booked the CRM module and an SSL certificate for its shop itself.
The bookings started on the first day of the previous month, so the monthly invoice run has
something to invoice.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django.utils import timezone

from offers.models import PartnerCondition, PartnerTier, Product
from organizations.roles import OrgKind
from portal.tenancy import org_context_for_organization

from .models import ProductBilling, Subscription, SubscriptionTerm
from .services import add_months, service_order, subscription_book, subscription_flags_refresh_all, trial_start

PRODUCTS = [
    # the offers app's demo catalog uses the same SKUs and prices (get_or_create on both sides)
    ("MOD-CRM", Product.Kind.MODULE, "CRM module", "CRM-Modul", 12, "19.90"),
    ("MOD-SHOP", Product.Kind.MODULE, "Shop module", "Shop-Modul", 12, "29.00"),
    ("ADD-STORAGE", Product.Kind.MODULE, "Extra storage 10 GB", "Zusatzspeicher 10 GB", 12, "4.90"),
    ("SRV-SSL", Product.Kind.SERVICE, "SSL certificate", "SSL-Zertifikat", 12, "6.50"),
    ("ADD-PAYMENTS", Product.Kind.MODULE, "Payment connector", "Zahlungsanbindung", 12, "9.00"),
]
# add-on SKU: (unit, units per quantity, the main products it is an add-on to)
ADD_ONS = {
    "ADD-STORAGE": (ProductBilling.Unit.GB_STORAGE, 10, ("MOD-SHOP", "MOD-CRM")),
    "ADD-PAYMENTS": (ProductBilling.Unit.LICENCE, 1, ("MOD-SHOP",)),
}


def _products() -> dict[str, Product]:
    products = {}
    for sku, kind, name_en, name_de, term, price in PRODUCTS:
        products[sku], _created = Product.objects.get_or_create(
            sku=sku,
            defaults=dict(kind=kind, name_en=name_en, name_de=name_de, term_months=term, list_price=Decimal(price)),
        )
    for sku, (unit, size, main_skus) in ADD_ONS.items():
        billing, _created = ProductBilling.objects.get_or_create(
            product=products[sku], defaults={"unit": unit, "unit_size": size}
        )
        billing.add_on_to.add(*(products[main] for main in main_skus if main in products))
    return products


def _start_of_previous_month():
    today = timezone.localdate()
    first = today.replace(day=1)
    previous = (
        first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)
    )
    return timezone.make_aware(datetime.combine(previous, time(9)))


def _backdate(subscription: Subscription, start) -> Subscription:
    """Let a demo booking have started on `start` (the services always start "now")."""
    Subscription.objects.filter(pk=subscription.pk).update(
        starts_at=start, created_at=start, term_ends_at=add_months(start, subscription.term_months)
    )
    # Its history (BIL-8) starts with it.
    SubscriptionTerm.objects.filter(subscription=subscription, valid_from=subscription.starts_at).update(
        valid_from=start
    )
    subscription.refresh_from_db()
    return subscription


def seed(demo: dict) -> None:
    orgs, users, projects = demo["orgs"], demo["users"], demo.get("projects", {})
    products = _products()
    gold, _created = PartnerTier.objects.get_or_create(name="Gold", defaults={"discount_percent": Decimal("25")})
    PartnerCondition.objects.get_or_create(partner=orgs["partner"], defaults={"tier": gold})
    for organization in orgs.values():
        if organization.kind == OrgKind.CUSTOMER:
            trial_start(organization=organization)

    start = _start_of_previous_month()
    subscriptions = demo.setdefault("subscriptions", {})
    partner_user, customer = users["partner"], orgs["customer"]
    partner_context = org_context_for_organization(partner_user, customer)

    def booked(key, organization, sku, **lookup):
        existing = Subscription.objects.filter(organization=organization, product=products[sku], **lookup).first()
        subscriptions[key] = existing
        return existing

    if not booked("customer_shop", customer, "MOD-SHOP", parent__isnull=True):
        subscriptions["customer_shop"] = _backdate(
            subscription_book(
                context=partner_context,
                product=products["MOD-SHOP"],
                quantity=3,
                confirm_obligation_to_pay=True,
                actor=partner_user,
            ),
            start,
        )
    if not booked("customer_storage", customer, "ADD-STORAGE"):
        subscriptions["customer_storage"] = _backdate(
            subscription_book(
                context=partner_context,
                product=products["ADD-STORAGE"],
                quantity=2,
                confirm_obligation_to_pay=True,
                actor=partner_user,
                parent=subscriptions["customer_shop"],
            ),
            start,
        )
    if "customer_web" in projects and not booked("customer_ssl", customer, "SRV-SSL"):
        subscriptions["customer_ssl"] = _backdate(
            service_order(
                project=projects["customer_web"],
                product=products["SRV-SSL"],
                quantity=1,
                confirm_obligation_to_pay=True,
                actor=partner_user,
            ),
            start,
        )

    direct, direct_user = orgs["direct"], users["direct"]
    if not booked("direct_crm", direct, "MOD-CRM", source=Subscription.Source.DIRECT_ORDER):
        subscriptions["direct_crm"] = _backdate(
            subscription_book(
                context=org_context_for_organization(direct_user, direct),
                product=products["MOD-CRM"],
                quantity=2,
                confirm_obligation_to_pay=True,
                actor=direct_user,
            ),
            start,
        )
    if "direct_shop" in projects and not booked("direct_ssl", direct, "SRV-SSL"):
        subscriptions["direct_ssl"] = _backdate(
            service_order(
                project=projects["direct_shop"],
                product=products["SRV-SSL"],
                quantity=1,
                confirm_obligation_to_pay=True,
                actor=direct_user,
            ),
            start,
        )
    # the customer table's stored subscription flags, as the minute job computes them
    subscription_flags_refresh_all()
