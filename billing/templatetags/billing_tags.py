"""Template helpers of the billing pages; amounts in the active language (`1.234,56` / `1,234.56`)."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from billing.money import format_amount

register = template.Library()


@register.filter
def money(value) -> str:
    return format_amount(value)


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


@register.filter
def eur(amount) -> str:
    """A Decimal amount as localized money with two decimals: `1.234,50 €` / `€1,234.50`."""
    if amount is None:
        return "–"
    return f"{format_amount(amount)} €"
