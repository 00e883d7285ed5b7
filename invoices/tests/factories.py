"""Helpers for the invoicing tests: products, billable lines, orgs with addresses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

from billing.selectors import BillableLine
from invoices.services.issuing import invoices_issue
from offers.models import Product
from tests import factories

PERIOD = (date(2026, 10, 1), date(2026, 10, 31))
_sku = count(1)


def product(price: str = "10.00", name: str = "Module") -> Product:
    number = next(_sku)
    return Product.objects.create(
        kind=Product.Kind.MODULE,
        sku=f"TEST-{number}-{name[:10]}",
        name_en=name,
        name_de=f"{name} (de)",
        list_price=Decimal(price),
    )


def line(recipient, customer=None, item=None, quantity="1", unit_price="10.00", period=PERIOD) -> BillableLine:
    return BillableLine(
        recipient_id=recipient.pk,
        customer_id=(customer or recipient).pk,
        product_id=item.pk if item else None,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        period_start=period[0],
        period_end=period[1],
        description="" if item else "Service",
    )


def issue(*lines, period=PERIOD, **kwargs):
    return invoices_issue(period_start=period[0], period_end=period[1], lines=list(lines), **kwargs)


# A valid postcode and city per country (organizations validate postcodes per country).
ADDRESSES = {
    "DE": ("10115", "Berlin"),
    "AT": ("1010", "Wien"),
    "CH": ("8001", "Zürich"),
    "GR": ("10431", "Athen"),
    "US": ("10001", "New York"),
    "GB": ("SW1A 1AA", "London"),
}


def _address(country: str) -> dict:
    postcode, city = ADDRESSES.get(country, ("", ""))
    return {"postcode": postcode, "city": city}


def customer(name="Direkt GmbH", country="DE", vat_id="", **fields):
    return factories.OrganizationFactory(
        name=name, country=country, vat_id=vat_id, street="Hauptstraße 1", **{**_address(country), **fields}
    )


def partner(name="Partner GmbH", country="DE", vat_id="DE136695976", **fields):
    return factories.PartnerFactory(
        name=name, country=country, vat_id=vat_id, street="Partnerweg 2", **{**_address(country), **fields}
    )
