"""Template tags shared by every app: `{% load portal_tags %}`.

- `{% if org_context|may:"customers.manage" %}`: the role table (incl. the ORG-6 gate) in templates.
(The pager of the lists is `{% pagination %}` in `ui`.)
"""

from django import template

register = template.Library()


@register.filter
def may(org_context, capability: str) -> bool:
    return bool(org_context) and org_context.has(capability)
