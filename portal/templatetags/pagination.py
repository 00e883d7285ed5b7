"""`{% page_query n %}`: the current query string with `page=n` – paging keeps search and filters."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, page_number) -> str:
    query = context["request"].GET.copy()
    query["page"] = page_number
    return query.urlencode()
