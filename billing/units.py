"""What a subscription's quantity counts (BIL-1): licences, GB of storage or services, in words of
the active language ("3 licences", "20 GB storage", "1 Lizenz"). The unit of a product is in
`ProductBilling` (none: licences for modules and courses, services for services)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from .models import ProductBilling

Unit = ProductBilling.Unit


def unit_of(product) -> tuple[str, int]:
    """(unit, units per booked quantity) of a catalog product."""
    try:
        billing = product.billing
    except ObjectDoesNotExist:
        billing = None
    if billing is not None:
        return billing.unit, billing.unit_size
    return (Unit.SERVICE if product.kind == "service" else Unit.LICENCE), 1


def amount_text(unit: str, amount: int) -> str:
    """An amount in its unit: "1 licence", "3 licences", "20 GB storage", "2 services"."""
    number = number_format(amount, use_l10n=True, force_grouping=True)
    if unit == Unit.GB_STORAGE:
        return ngettext("%(count)s GB storage", "%(count)s GB storage", amount) % {"count": number}
    if unit == Unit.SERVICE:
        return ngettext("%(count)s service", "%(count)s services", amount) % {"count": number}
    return ngettext("%(count)s licence", "%(count)s licences", amount) % {"count": number}


def quantity_text(product, quantity: int) -> str:
    """A booked quantity of `product` in its unit (2 packs of 10 GB: "20 GB storage")."""
    unit, size = unit_of(product)
    return amount_text(unit, quantity * size)


def per_unit_text(product) -> str:
    """What a unit price is for: "per licence and month", "per 10 GB and month"."""
    unit, size = unit_of(product)
    if unit == Unit.GB_STORAGE:
        return gettext("per %(size)s GB and month") % {"size": number_format(size, use_l10n=True)}
    if unit == Unit.SERVICE:
        return gettext("per service and month")
    return gettext("per licence and month")
