"""Template helpers of offers: the customer's badge count (OFR-6)."""

from django import template

from ..selectors import offers_awaiting_confirmation_count

register = template.Library()


@register.simple_tag
def offers_awaiting(org_context) -> int:
    return offers_awaiting_confirmation_count(org_context)
