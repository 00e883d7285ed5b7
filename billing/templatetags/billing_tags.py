"""Template helpers of the billing pages."""
from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def may_billing(org_context, capability: str) -> bool:
    """`{% if org_context|may_billing:"billing.view" %}`: the role table incl. the ORG-6 gate."""
    return bool(org_context) and org_context.has(capability)


@register.filter
def eur(amount) -> str:
    """A Decimal amount as localized money with two decimals: `1.234,50 €` / `€1,234.50`."""
    if amount is None:
        return "–"
    return f"{number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)} €"
