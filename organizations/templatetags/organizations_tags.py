"""Template helpers of the organizations app: the Open requests badge."""

from django import template

register = template.Library()


@register.filter
def open_requests_count(org_context) -> int:
    """Requests waiting for a decision by this org, over every section of the Open requests page."""
    from ..open_requests import open_requests_awaiting

    if not org_context:
        return 0
    return open_requests_awaiting(org_context)
