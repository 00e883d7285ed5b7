"""`{% if org_context|may:"delegations.manage" %}`: the role table in templates."""
from django import template

register = template.Library()


@register.filter
def may(org_context, capability: str) -> bool:
    return bool(org_context) and org_context.has(capability)
