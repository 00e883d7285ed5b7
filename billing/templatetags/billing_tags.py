"""Template helpers of the billing pages; amounts in the active language (`1.234,56` / `1,234.56`)."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from billing import units

register = template.Library()


@register.filter
def in_units(subscription) -> str:
    """A subscription's quantity in its product's unit: "3 licences", "20 GB storage"."""
    return units.quantity_text(subscription.product, subscription.quantity)


@register.filter
def per_unit(product) -> str:
    """What a product's unit price is for: "per licence and month", "per 10 GB and month"."""
    return units.per_unit_text(product)


@register.filter
def amount_in(quantity, product) -> str:
    """`{{ quantity|amount_in:product }}`: a quantity about to be booked, in the product's unit."""
    return units.quantity_text(product, int(quantity))


@register.filter
def unit_price(value) -> str:
    """Unit prices keep sub-cent places only where they have them (at least two)."""
    value = Decimal(value).normalize()
    places = max(2, -value.as_tuple().exponent) if value.as_tuple().exponent < 0 else 2
    return number_format(value, decimal_pos=min(places, 4), use_l10n=True, force_grouping=True)


@register.filter
def quantity(value) -> str:
    value = Decimal(value)
    places = 0 if value == value.to_integral_value() else 2
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def percent(value) -> str:
    value = Decimal(value)
    places = 0 if value == value.to_integral_value() else 2
    return number_format(value, decimal_pos=places, use_l10n=True)
