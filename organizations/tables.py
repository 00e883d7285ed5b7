"""The partner's customer table (issue 16): columns, sorting and export with django-tables2.

Sortable are the plain columns of the organization row (name, identifier, city, status); the
computed ones (contact, invitation, trial, subscriptions) come from correlated subqueries that
PostgreSQL evaluates for the page's rows only (`selectors.customer_table_columns`), so sorting by
them would compute them for every customer.
"""

from __future__ import annotations

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.pagination import COUNT_CAP, CappedPaginator, capped_count
from portal.templatetags.ui import choice_label, inclusive_end, status_tone, until

from .models import Invitation, Organization

# The columns a user may hide (name is always shown: it is the row's link).
OPTIONAL_COLUMNS = (
    "public_id",
    "city",
    "status",
    "contact_email",
    "invitation_status",
    "trial_ends_at",
    "subscription_count",
)
PAGE_SIZE = 25
PAGE_FIELDS = ("id", "name", "public_id", "city", "country", "status")
PER_PAGE_CHOICES = (25, 50, 100)
# Characters that make a spreadsheet read a cell as a formula (CSV/formula injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class CustomerTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), order_by=("name", "id"))
    public_id = tables.Column(verbose_name=_("Identifier"), order_by=("public_id",))
    city = tables.Column(verbose_name=_("City"), order_by=("city", "name", "id"))
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "name", "id"))
    contact_email = tables.Column(verbose_name=_("Contact person"), orderable=False, default="")
    invitation_status = tables.Column(verbose_name=_("Invitation"), orderable=False, default="")
    trial_ends_at = tables.Column(verbose_name=_("Trial ends"), orderable=False, default="")
    subscription_count = tables.Column(
        verbose_name=pgettext_lazy("customer table column", "Subscriptions"), orderable=False, default=0
    )

    class Meta:
        model = Organization
        fields = ()
        sequence = ("name", *OPTIONAL_COLUMNS)
        order_by = ("name",)
        orderable = True

    def __init__(self, *args, partner_public_id: str = "", **kwargs):
        self.partner_public_id = partner_public_id
        super().__init__(*args, **kwargs)

    # --- the page (HTML) -------------------------------------------------------------------------

    def render_name(self, record):
        url = reverse("customer-detail", kwargs={"org": self.partner_public_id, "customer": record.public_id})
        return format_html('<a href="{}">{}</a>', url, record.name)

    def render_public_id(self, value):
        return format_html("<code>{}</code>", value)

    def render_city(self, record):
        if record.country:
            return format_html("{} ({})", record.city, record.country.code)
        return record.city

    def render_status(self, record):
        return format_html(
            '<span class="status status-{}">{}</span>',
            status_tone(record.status),
            choice_label(Organization.Status, record.status),
        )

    def render_invitation_status(self, value):
        label = choice_label(Invitation.Status, value)
        return format_html('<span class="status status-{}">{}</span>', status_tone(value), label)

    def render_trial_ends_at(self, value):
        return until(value)

    # --- the export (CSV/XLSX): plain values, no markup -------------------------------------------

    def value_name(self, record):
        return record.name

    def value_public_id(self, value):
        return value

    def value_city(self, record):
        return record.city

    def value_status(self, record):
        return choice_label(Organization.Status, record.status)

    def value_invitation_status(self, value):
        return choice_label(Invitation.Status, value)

    def value_trial_ends_at(self, value):
        last_day = inclusive_end(value)
        return last_day.isoformat() if last_day else ""

    def as_values(self, exclude_columns=None):
        for row in super().as_values(exclude_columns=exclude_columns):
            yield [spreadsheet_safe(value) for value in row]

    # --- fast paths: django-tables2 inspects every render_/value_ method's signature per cell,
    # which costs more than the page's queries; the page and the export call them directly.

    def _renderers(self):
        return {
            "name": self.render_name,
            "public_id": lambda record: self.render_public_id(record.public_id),
            "city": self.render_city,
            "status": self.render_status,
            "contact_email": lambda record: record.contact_email or "",
            "invitation_status": lambda record: (
                self.render_invitation_status(record.invitation_status) if record.invitation_status else ""
            ),
            "trial_ends_at": lambda record: self.render_trial_ends_at(record.trial_ends_at),
            "subscription_count": lambda record: record.subscription_count,
        }

    def page_rows(self):
        """(record, [(column name, cell HTML)]) for the rows of the current page. The page is
        chosen on the plain organization rows (ORDER BY … OFFSET … LIMIT reads no subquery, so a
        deep page costs what the first does); the computed columns are then read for these rows
        only, in one more query."""
        from .selectors import customer_table_columns

        ids = [row.record.pk for row in self.page.object_list]
        records = {record.pk: record for record in customer_table_columns(Organization.objects.filter(pk__in=ids))}
        renderers = self._renderers()
        names = [column.name for column in self.columns]
        for pk in ids:
            record = records[pk]
            yield record, [(name, renderers[name](record)) for name in names]

    def export_rows(self, queryset, exclude_columns=()):
        """The header and the plain values of every row of `queryset`, read in chunks."""
        from .selectors import customer_table_columns

        queryset = customer_table_columns(queryset)
        values = {
            "name": self.value_name,
            "public_id": lambda record: record.public_id,
            "city": self.value_city,
            "status": self.value_status,
            "contact_email": lambda record: record.contact_email or "",
            "invitation_status": lambda record: self.value_invitation_status(record.invitation_status),
            "trial_ends_at": lambda record: self.value_trial_ends_at(record.trial_ends_at),
            "subscription_count": lambda record: record.subscription_count,
        }
        columns = [column for column in self.columns if column.name not in exclude_columns]
        yield [str(column.header) for column in columns]
        for record in queryset.iterator(chunk_size=2000):
            yield [spreadsheet_safe(values[column.name](record)) for column in columns]


def chosen_columns(query, remembered=None) -> list[str]:
    """The optional columns to show: those chosen in `query` (the "columns" form sends `columns=1`
    and a `col` per ticked box), else `remembered` (the session's list), else all."""
    if query.get("columns"):
        return [name for name in OPTIONAL_COLUMNS if name in query.getlist("col")]
    if isinstance(remembered, list):
        return [name for name in OPTIONAL_COLUMNS if name in remembered]
    return list(OPTIONAL_COLUMNS)


def customer_table(context, query, *, columns, request=None):
    """The filtered customer rows (tenancy: `selectors.customer_list`) as a table with `columns`,
    sorted by the query's `sort`. With a request it is paginated for the page (`per_page`);
    without (the export job) it holds every row."""
    from .filters import CustomerFilter
    from .selectors import customer_list

    filterset = CustomerFilter(query, queryset=customer_list(context=context, status=""), partner=context.organization)
    # Only the columns the ordering and the row link need; the computed ones come per page
    # (`page_rows`) or per export chunk (`export_rows`).
    table = CustomerTable(
        filterset.qs.only(*PAGE_FIELDS),
        partner_public_id=context.organization.public_id,
        exclude=[name for name in OPTIONAL_COLUMNS if name not in columns],
    )
    if query.get("sort"):
        table.order_by = query.get("sort")
    if request is None:
        return filterset, table
    table.request = request
    per_page = query.get("per_page", "")
    per_page = int(per_page) if per_page.isdigit() and int(per_page) in PER_PAGE_CHOICES else PAGE_SIZE
    # Paginated here rather than by `RequestConfig`, which would take `per_page` from the query
    # unchecked (`?per_page=100000`). The total is counted up to COUNT_CAP ("more than 1,000
    # entries"): an exact count of 10,000 customers cost more than the page (issue 13); search,
    # filters and sorting reach the rest, the export has every row.
    page = query.get("page", "1")
    try:
        table.paginate(
            paginator_class=CappedPaginator,
            per_page=per_page,
            page=page,
            cap=COUNT_CAP,
            counted=capped_count(filterset.qs, COUNT_CAP),
        )
    except PageNotAnInteger:
        table.page = table.paginator.page(1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)
    return filterset, table
