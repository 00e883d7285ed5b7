"""Demo invoices and payment methods (BIL-5, BIL-6) for `seed_demo`; idempotent.

Runs after the subscription demo (`billing/demo.py`; `seed_demo` runs the apps in order): the
monthly run over last month issues the invoices to Demo Partner GmbH (a section for Demo Kunde
AG) and to Direkt GmbH from the demo bookings; each of them has a payment method.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from billing.selectors import BillableLine
from offers.models import Product

from .models import Invoice, PaymentMethod
from .services.issuing import invoice_monthly_run, invoices_issue, previous_month


def _products() -> list[Product]:
    products = list(Product.objects.filter(is_active=True, list_price__gt=0).order_by("sku")[:2])
    if len(products) < 2:
        for sku, name_en, name_de, price in (
            ("DEMO-CMS", "CMS module", "CMS-Modul", "19.90"),
            ("DEMO-BACKUP", "Backup storage 100 GB", "Backup-Speicher 100 GB", "4.95"),
        ):
            product, _ = Product.objects.get_or_create(
                sku=sku,
                defaults={
                    "kind": Product.Kind.MODULE,
                    "name_en": name_en,
                    "name_de": name_de,
                    "list_price": Decimal(price),
                },
            )
            products.append(product)
    return products[:2]


def seed(demo: dict) -> None:
    orgs, users = demo["orgs"], demo["users"]
    partner, customer, direct = orgs["partner"], orgs["customer"], orgs["direct"]

    if not PaymentMethod.objects.filter(organization=partner).exists():
        PaymentMethod.objects.create(
            organization=partner,
            kind=PaymentMethod.Kind.SEPA_DIRECT_DEBIT,
            account_holder=partner.name,
            iban="DE89370400440532013000",
            bic="COBADEFFXXX",
            mandate_reference="RP-DEMO-PARTNER-0001",
            mandate_signed_on=timezone.localdate(),
            is_default=True,
            created_by=users.get("partner"),
        )
    if not PaymentMethod.objects.filter(organization=direct).exists():
        PaymentMethod.objects.create(
            organization=direct,
            kind=PaymentMethod.Kind.BANK_TRANSFER,
            is_default=True,
            created_by=users.get("direct"),
        )

    # The monthly run over last month, from the demo bookings (they started on its first day).
    invoice_monthly_run()
    period_start, period_end = previous_month(timezone.localdate())
    # Should the subscription demo have booked nothing billable, both invoices exist all the same.
    if not Invoice.objects.filter(recipient__in=[partner, direct], period_start=period_start).count() == 2:
        module, storage = _products()
        lines = [
            BillableLine(partner.pk, customer.pk, module.pk, Decimal(5), Decimal("15.92"), period_start, period_end),
            BillableLine(partner.pk, customer.pk, storage.pk, Decimal(3), Decimal("3.96"), period_start, period_end),
            BillableLine(direct.pk, direct.pk, module.pk, Decimal(2), module.list_price, period_start, period_end),
        ]
        invoices_issue(period_start=period_start, period_end=period_end, lines=lines)
    demo["invoices"] = {
        invoice.recipient_id: invoice
        for invoice in Invoice.objects.filter(recipient__in=[partner, direct], period_start=period_start)
    }
