"""Template helpers of offers: the customer's badge count (OFR-6) and the rows of the offer table."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from portal.templatetags.ui import moment, money, status_badge, url_around

from ..selectors import offers_awaiting_confirmation_count

register = template.Library()


@register.simple_tag
def offers_awaiting(org_context) -> int:
    return offers_awaiting_confirmation_count(org_context)


# an offer id only to find where the id goes in the detail URL
_MARKER_ID = 987654321


@register.simple_tag
def offer_list_rows(offers, side: str, organization_public_id: str):
    """The rows of the offer table (`offers/_offer_table.html`) in `side` "partner" (sent: the
    customer, sent at) or "customer" (received: the partner, received at). Built in Python: the
    same cells through the template language cost more than the page's queries (issue 13). The
    detail URL is reversed once per table, around the offer's id."""
    head, tail = url_around("offer-detail", "offer_id", _MARKER_ID, org=organization_public_id)
    rows = []
    for offer in offers:
        if side == "partner":
            other, at = offer.customer.name, offer.created_at
        else:
            other, at = offer.partner.name, offer.delivered_at or offer.created_at
        rows.append(
            f'<tr><td><a href="{head}{offer.pk}{tail}">{escape(offer.title)}</a></td><td>{escape(other)}</td>'
            f'<td>{escape(offer.item_count)}</td><td class="text-nowrap">{escape(money(offer.total))}</td>'
            f"<td>{status_badge(offer.status, offer.status_label)}</td>"
            f'<td class="text-nowrap">{escape(moment(at))}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped
