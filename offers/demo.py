"""Demo catalog and offers (see portal/management/commands/seed_demo.py); running twice adds nothing.

- Catalog: modules, a course and a service; tiers Silver/Gold; Demo Partner GmbH is Gold (25 %).
- Demo Partner GmbH has the templates "Starter-Paket" and "Schulungspaket".
- Demo Kunde AG has one offer waiting for confirmation, one accepted and one declined.
"""

from decimal import Decimal

from django.db import transaction

from portal.tenancy import org_context_for_organization

from .models import Offer, OfferTemplate, PartnerCondition, PartnerTier, Product
from .services import (
    offer_accept,
    offer_decline,
    offer_deliver,
    offer_send,
    offer_template_add_product,
    offer_template_create,
    offer_template_update_item,
)

PRODUCTS = [
    # sku, kind, English, German, term, list price per license and month
    ("MOD-CRM", Product.Kind.MODULE, "CRM module", "CRM-Modul", 12, "19.90"),
    ("MOD-SHOP", Product.Kind.MODULE, "Shop module", "Shop-Modul", 12, "29.00"),
    ("MOD-MAIL", Product.Kind.MODULE, "Newsletter module", "Newsletter-Modul", 12, "9.50"),
    ("CRS-BASICS", Product.Kind.COURSE, "Basics course", "Grundlagenkurs", 3, "49.00"),
    ("SRV-ONBOARD", Product.Kind.SERVICE, "Onboarding service", "Onboarding-Service", 1, "250.00"),
]
TEMPLATES = {
    "Starter-Paket": [("MOD-CRM", 5, "absolute"), ("MOD-MAIL", 5, "relative")],
    "Schulungspaket": [("CRS-BASICS", 10, "relative"), ("SRV-ONBOARD", 1, "absolute")],
}
OFFERS = [  # title, message, final status
    (
        "Starter-Paket",
        "Wie besprochen: das Starter-Paket für Ihr Vertriebsteam.",
        Offer.Status.WAITING_FOR_CONFIRMATION,
    ),
    ("Schulungspaket", "Schulungen für die neuen Kolleginnen und Kollegen.", Offer.Status.ACCEPTED),
    ("Starter-Paket", "Zweites Angebot mit weniger Lizenzen.", Offer.Status.DECLINED),
]


def seed_catalog() -> dict[str, Product]:
    products = {}
    for sku, kind, name_en, name_de, term, price in PRODUCTS:
        products[sku], _ = Product.objects.get_or_create(
            sku=sku,
            defaults=dict(kind=kind, name_en=name_en, name_de=name_de, term_months=term, list_price=Decimal(price)),
        )
    PartnerTier.objects.get_or_create(name="Silver", defaults={"discount_percent": Decimal("15")})
    PartnerTier.objects.get_or_create(name="Gold", defaults={"discount_percent": Decimal("25")})
    return products


def seed(demo: dict) -> None:
    orgs, users = demo["orgs"], demo["users"]
    partner, customer = orgs["partner"], orgs["customer"]
    partner_user, customer_user = users["partner"], users["customer"]
    products = seed_catalog()
    PartnerCondition.objects.get_or_create(partner=partner, defaults={"tier": PartnerTier.objects.get(name="Gold")})

    partner_context = org_context_for_organization(partner_user, partner)
    templates = {}
    for name, lines in TEMPLATES.items():
        template = OfferTemplate.objects.filter(partner=partner, name=name).first()
        if template is None:
            template = offer_template_create(context=partner_context, name=name, actor=partner_user)
            for sku, quantity, mode in lines:
                item = offer_template_add_product(
                    template=template, context=partner_context, product_id=products[sku].pk, actor=partner_user
                )
                offer_template_update_item(
                    item=item, context=partner_context, actor=partner_user, quantity=quantity, license_mode=mode
                )
        templates[name] = template

    customer_context = org_context_for_organization(customer_user, customer)
    for title, message, status in OFFERS:
        if Offer.objects.filter(partner=partner, customer=customer, message=message).exists():
            continue
        with transaction.atomic():
            offer = offer_send(
                context=partner_context,
                template=templates[title],
                customer=customer,
                message=message,
                actor=partner_user,
                allow_duplicate=True,  # the demo's second Starter-Paket offer is deliberate
            )
        offer_deliver(offer_id=offer.pk)  # idempotent: a no-op if the eager worker already delivered it
        offer.refresh_from_db()
        if status == Offer.Status.ACCEPTED:
            offer_accept(offer=offer, context=customer_context, actor=customer_user)
        elif status == Offer.Status.DECLINED:
            offer_decline(
                offer=offer,
                context=customer_context,
                actor=customer_user,
                reason="Wir brauchen vorerst weniger Lizenzen.",
            )
    demo["offers"] = {"templates": templates, "products": products}
