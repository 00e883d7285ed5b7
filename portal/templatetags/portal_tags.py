"""Template tags shared by every app: `{% load portal_tags %}`.

- `{% if org_context|may:"customers.manage" %}`: the role table (incl. the ORG-6 gate) in templates.
- `{% page_query n %}`: the current query string with `page=n` – paging keeps search and filters.
"""

from django import template

register = template.Library()


@register.filter
def may(org_context, capability: str) -> bool:
    return bool(org_context) and org_context.has(capability)


@register.simple_tag(takes_context=True)
def page_query(context, page_number) -> str:
    query = context["request"].GET.copy()
    query["page"] = page_number
    return query.urlencode()
