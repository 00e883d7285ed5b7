"""The console's design system (issue 16): icons, dates and money, and the page components.

`{% load ui %}` gives:

- `{% icon "bell" %}`: a heroicons SVG inline (decorative: aria-hidden; give the text beside it).
- `|day`, `|moment`, `|until`, `|money`: dates and money in the reader's language, one format per
  language (portal/formats/<lang>/formats.py). `|until` shows an inclusive end date stored the
  portal's way – as the exclusive midnight that starts the next day – as that last day.
- Components with a body (Django has no slots, so these are block tags):
  `{% page_header %}`, `{% filter_bar %}`, `{% data_table %}`, `{% empty_state %}`,
  `{% form_section %}`, `{% confirm_dialog %}`; and `{% status_badge %}`, `{% sort_header %}` and
  `{% pagination %}` (built in Python). The others' markup is in templates/components/; README
  "Console: UI components".
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal, InvalidOperation

import heroicons
from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Page
from django.template.base import token_kwargs
from django.template.loader import get_template
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, ngettext

register = template.Library()


# --- icons -------------------------------------------------------------------------------------


@register.simple_tag
def icon(name: str, size: int = 20, css_class: str = "") -> str:
    """An outline heroicon, decorative (aria-hidden): the visible or visually-hidden text next to it
    names the action. Unknown names raise, so a typo fails the page's tests, not the user's eyes."""
    return _icon_svg(name, int(size), css_class)


@functools.lru_cache(maxsize=512)
def _icon_svg(name: str, size: int, css_class: str) -> str:
    # The same few dozen icons on every page: parsing the SVG each time cost ~0.1 ms per icon.
    svg = heroicons._render_icon(
        "outline", name, size, {"aria_hidden": "true", "focusable": "false", "class": f"icon {css_class}".strip()}
    )
    return mark_safe(svg)  # noqa: S308 - the SVG comes from the heroicons package, no user input


def url_around(name: str, key: str, marker, **kwargs) -> tuple[str, str]:
    """The escaped parts of the URL `name` before and after its argument `key`, reversed once with
    `marker` (a value the pattern accepts) in its place: a list built in Python puts each row's
    value between them instead of a `reverse` per row (~30 µs each)."""
    head, tail = reverse(name, kwargs={**kwargs, key: marker}).rsplit(str(marker), 1)
    return escape(head), escape(tail)


# --- dates and money ---------------------------------------------------------------------------


def _local(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    return value


@register.filter
def day(value) -> str:
    """A date (or a datetime's local date): "2 Dec 2026" / "2. Dez. 2026"."""
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime.date):
        return str(value)
    value = _local(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    return _date_text(value, get_language())


@functools.lru_cache(maxsize=4096)
def _date_text(value: datetime.date, language: str | None) -> str:
    # A 25-row list shows the same few dates in every row; Django's date formatting costs ~40 µs a
    # call (issue 13). Keyed by language: the format and the month names depend on it.
    return formats.date_format(value, "DATE_FORMAT")


@register.filter
def moment(value) -> str:
    """A point in time with its local time: "2 Dec 2026, 21:43" / "2. Dez. 2026, 21:43"."""
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime.datetime):
        return day(value)
    return formats.date_format(_local(value), "DATETIME_FORMAT")


def inclusive_end(value):
    """The last day an end covers. The portal stores "until 30 June" as 1 July 00:00 local time
    (delegations, project roles, subscriptions from offers): that midnight means the day before.
    Any other moment (a cancellation at 14:37) ends on its own day; a plain date is the last day."""
    if value in (None, "") or not isinstance(value, datetime.date):
        return None
    value = _local(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time.min:
            return value.date() - datetime.timedelta(days=1)
        return value.date()
    return value


@register.filter
def until(value, with_time: str = "") -> str:
    """`{{ delegation.ends_at|until }}`: an inclusive end date ("30 Jun 2027", never "1 Jul
    00:00"). `|until:"time"` adds the time where the end is not a midnight (a cancellation)."""
    last_day = inclusive_end(value)
    if last_day is None:
        return ""
    local = _local(value)
    if with_time and isinstance(local, datetime.datetime) and local.time() != datetime.time.min:
        return moment(local)
    return _date_text(last_day, get_language())


@register.filter
def has_badges(menu) -> bool:
    """Whether any link of the org menu (`portal.context_processors.organization_menu`) can carry
    a red badge: only then does the page ask for the counts."""
    return any(group["badge_keys"] for group in menu)


@register.filter
def money(amount, currency: str = "EUR") -> str:
    """A localized amount with two decimals and the currency sign where the language puts it:
    "€1,234.50" (en), "1.234,50 €" (de). `None` shows as "–"."""
    if amount in (None, ""):
        return "–"
    try:
        amount = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    if not amount.is_finite():
        return str(amount)
    return _money_text(amount, currency, get_language() or "en")


@functools.lru_cache(maxsize=4096)
def _money_text(amount: Decimal, currency: str, language: str) -> str:
    # An invoice page shows the same few amounts in many lines; Django's number formatting costs
    # ~20 µs a call (issue 13). Keyed by language: separators and the sign's place depend on it
    # (equal Decimals such as 1.5 and 1.50 give the same text: two places are always shown).
    number = formats.number_format(abs(amount), decimal_pos=2, use_l10n=True, force_grouping=True)
    sign = "−" if amount < 0 else ""
    symbol = {"EUR": "€"}.get(currency, currency)
    if language.startswith("de"):
        return f"{sign}{number}\u00a0{symbol}"
    return f"{sign}{symbol}{number}"


# --- small components --------------------------------------------------------------------------

# Status values of every app mapped onto four tones; anything else is neutral.
STATUS_TONES = {
    "success": {"active", "accepted", "approved", "paid", "in_force", "delivered", "done", "sent_ok"},
    "warning": {"pending", "trial", "awaiting", "waiting", "open", "sent", "draft", "requested", "invited"},
    "danger": {"failed", "declined", "rejected", "overdue", "blocked", "error"},
    "secondary": {"archived", "ended", "cancelled", "canceled", "revoked", "expired", "withdrawn", "void"},
}


def choice_label(choices, value) -> str:
    """The label of `value` among `choices` (a `TextChoices`) in the active language. One lookup
    and one translation, where a model's `get_FOO_display()` translates every choice of the field
    again on each call – a good part of a 25-row list's rendering (issue 13). An unknown value
    shows as itself."""
    try:
        return str(choices(value).label)
    except ValueError:
        return "" if value is None else str(value)


def status_tone(value) -> str:
    value = str(value or "").lower()
    for tone, values in STATUS_TONES.items():
        if value in values:
            return tone
    return "info"


@register.simple_tag
def status_badge(value, label=None):
    """`{% status_badge customer.status customer.get_status_display %}`: a coloured pill whose
    colour never carries meaning alone (the label is the text). Built here rather than from a
    template: lists render one per row, and an inclusion tag costs ~20 µs each (issue 13)."""
    return format_html(
        '<span class="status status-{}">{}</span>', status_tone(value), label if label is not None else value
    )


SORT_ICONS = {"ascending": "chevron-up", "descending": "chevron-down", "none": "chevron-up-down"}


def sort_cell(label, query: str, state: str) -> str:
    """The <th> of a sortable column: its label linked to `?query` (the order a click gives), an
    icon for `state` ("ascending", "descending" or "none") and `aria-sort`. The one markup of a
    sort header: `{% sort_header %}` and the customer table's header cells (organizations/tables.py)."""
    sort_icon = _icon_svg(SORT_ICONS[state], 16, "sort-idle" if state == "none" else "")
    return format_html(
        '<th scope="col" aria-sort="{}"><a class="sort-link" href="?{}">{}{}</a></th>', state, query, label, sort_icon
    )


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label, param: str = "sort"):
    """`{% sort_header "name" _("Name") %}`: a <th> whose link sorts by `field`, then `-field`;
    keeps the other query parameters but leaves the page (a new order starts at page 1)."""
    request = context["request"]
    current = request.GET.get(param, "")
    ascending = current == field
    descending = current == f"-{field}"
    query = request.GET.copy()
    query.pop("page", None)
    query[param] = f"-{field}" if ascending else field
    state = "ascending" if ascending else "descending" if descending else "none"
    return sort_cell(label, query.urlencode(), state)


@register.simple_tag(takes_context=True)
def pagination(context, page_obj=None, param: str = "page"):
    """`{% pagination page_obj %}`: first/previous/next/last, "Page 2 of 40" and the total – numbers
    a 10,000-row list can afford; nothing for a single page. The links keep the other query
    parameters and set `param` (a page with two lists pages the second by its own parameter).
    Built here rather than from a template: every list page shows one (issue 13)."""
    if not isinstance(page_obj, Page):  # not given, or a variable the context lacks ("")
        page_obj = context.get("page_obj")
    if not isinstance(page_obj, Page) or page_obj.paginator.num_pages <= 1:
        return ""
    paginator = page_obj.paginator
    query = context["request"].GET.copy()

    def link(number, content: str, rel: str = "") -> str:
        query[param] = number
        rel = f' rel="{rel}"' if rel else ""
        return f'<li class="page-item"><a class="page-link" href="?{escape(query.urlencode())}"{rel}>{content}</a></li>'

    items = []
    if page_obj.has_previous():
        items.append(link(1, _icon_svg("chevron-double-left", 16, "") + _hidden(gettext("First page"))))
        previous = _icon_svg("chevron-left", 16, "") + f'<span class="pager-label">{escape(gettext("Previous"))}</span>'
        items.append(link(page_obj.previous_page_number(), previous, "prev"))
    position = gettext("Page %(number)s of %(count)s") % {
        "number": formats.localize(page_obj.number),
        "count": formats.localize(paginator.num_pages),
    }
    items.append(
        f'<li class="page-item active" aria-current="page"><span class="page-link">{escape(position)}</span></li>'
    )
    if page_obj.has_next():
        following = f'<span class="pager-label">{escape(gettext("Next"))}</span>' + _icon_svg("chevron-right", 16, "")
        items.append(link(page_obj.next_page_number(), following, "next"))
        items.append(
            link(paginator.num_pages, _icon_svg("chevron-double-right", 16, "") + _hidden(gettext("Last page")))
        )
    if getattr(paginator, "capped", False):
        total = gettext("more than %(cap)s entries") % {"cap": intcomma(paginator.cap)}
    else:
        total = ngettext("%(counter)s entry", "%(counter)s entries", paginator.count) % {
            "counter": formats.localize(paginator.count)
        }
    return mark_safe(  # noqa: S308 - texts and links escaped above, icons from heroicons
        f'<nav class="pager" aria-label="{escape(gettext("Pages"))}">\n  <ul class="pagination pagination-sm">\n    '
        + "\n    ".join(items)
        + f'\n  </ul>\n  <span class="pager-total">{escape(total)}</span>\n</nav>'
    )


def _hidden(text: str) -> str:
    return f'<span class="visually-hidden">{escape(text)}</span>'


# --- components with a body --------------------------------------------------------------------


class ComponentNode(template.Node):
    """Renders `templates/components/<name>.html` with the tag's keyword arguments and the
    rendered body as `body` – the component sees the page's context (request, csrf_token)."""

    def __init__(self, name: str, kwargs: dict, nodelist):
        self.template_name = f"components/{name}.html"
        self.kwargs = kwargs
        self.nodelist = nodelist

    def render(self, context):
        values = {key: value.resolve(context) for key, value in self.kwargs.items()}
        body = self.nodelist.render(context) if self.nodelist is not None else ""
        values["body"] = mark_safe(body)  # noqa: S308 - rendered (and autoescaped) by the template engine
        with context.push(**values):
            return get_template(self.template_name).template.render(context)


def _component(name: str):
    def compile_function(parser, token):
        bits = token.split_contents()[1:]
        kwargs = token_kwargs(bits, parser, support_legacy=False)
        if bits:
            raise template.TemplateSyntaxError(f"{{% {name} %}} takes keyword arguments only, got {bits!r}")
        nodelist = parser.parse((f"end{name}",))
        parser.delete_first_token()
        return ComponentNode(name, kwargs, nodelist)

    compile_function.__name__ = name
    compile_function.__doc__ = f"{{% {name} key=value … %}}…{{% end{name} %}} → components/{name}.html"
    return register.tag(name, compile_function)


for _name in ("page_header", "filter_bar", "data_table", "empty_state", "form_section", "confirm_dialog"):
    _component(_name)


@register.simple_tag
def confirm_attrs(dialog_id: str) -> str:
    """On a <form>: `<form method="post" {% confirm_attrs "end-relation" %}>` asks with the dialog
    `{% confirm_dialog id="end-relation" %}` before submitting (without JavaScript it submits)."""
    return format_html('data-confirm-dialog="{}"', dialog_id)
