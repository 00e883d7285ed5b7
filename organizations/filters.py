"""Filters of the partner's customer table (issue 16), with django-filter.

Every filter is a WHERE on the organization row or an EXISTS on an indexed foreign key, so a
filter never multiplies rows and the count stays one query.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.templatetags.form_widgets import select_options, widget_attrs

from . import selectors
from .models import Organization, User

YES_NO = (("yes", _("Yes")), ("no", _("No")))
# The staff filter lists at most this many people (and always the chosen one): a partner with
# thousands of Members would otherwise render thousands of <option>s on every page.
STAFF_CHOICES_MAX = 200


# The filter bar is on every page of the table: its widgets are rendered in Python, with the same
# markup as the widget templates (templates/django/forms/widgets/), where the template route – an
# attrs.html include per widget – cost about 0.1 ms a field (issue 13).


class SearchInput(forms.TextInput):
    input_type = "search"

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = format_html(' value="{}"', str(widget["value"])) if widget["value"] is not None else ""
        return format_html(
            '<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], shown, widget_attrs(widget["attrs"])
        )


class Select(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html(
            '<select name="{}"{}>{}\n</select>', widget["name"], widget_attrs(widget["attrs"]), select_options(widget)
        )


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        widget=SearchInput(attrs={"placeholder": _("Name, identifier, VAT ID or contact email")}),
    )
    status = django_filters.ChoiceFilter(
        choices=Organization.Status.choices,
        label=_("Status"),
        empty_label=None,
        method="filter_status",
        widget=Select,
    )
    staff = django_filters.ModelChoiceFilter(
        queryset=None, label=_("Assigned staff"), empty_label=_("Anyone"), method="filter_staff", widget=Select
    )
    has_trial = django_filters.ChoiceFilter(
        choices=YES_NO, label=_("Trial running"), empty_label=_("Any"), method="filter_has_trial", widget=Select
    )
    has_subscription = django_filters.ChoiceFilter(
        choices=YES_NO,
        label=_("Has subscriptions"),
        empty_label=_("Any"),
        method="filter_has_subscription",
        widget=Select,
    )

    class Meta:
        model = Organization
        fields = ()

    def __init__(self, data=None, *args, partner: Organization, **kwargs):
        data = data.copy() if data is not None else None
        if data is not None and not data.get("status"):
            data["status"] = Organization.Status.ACTIVE  # the default view: active customers
        super().__init__(data, *args, **kwargs)
        staff = selectors.assignable_staff(partner)
        self.filters["staff"].queryset = staff  # validation: any of them
        field = self.form.fields["staff"]
        # Plain values, not Membership and User instances: this runs on every page of the table.
        shown = selectors.assignable_staff_choices(partner, most=STAFF_CHOICES_MAX)
        chosen = str((data or {}).get("staff") or "")
        if chosen.isdigit() and all(str(pk) != chosen for pk, _label in shown):
            people = staff.filter(pk=int(chosen)).values_list(*selectors.STAFF_NAME_FIELDS)
            shown += [(pk, User.label_of(*name)) for pk, *name in people]
        field.widget.choices = [("", field.empty_label)] + shown
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def filter_search(self, queryset, name, value):
        return selectors.customer_table_search(queryset, value)

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value) if value else queryset

    def filter_staff(self, queryset, name, value):
        return queryset.filter(selectors.customer_assigned_to_q(value)) if value else queryset

    def filter_has_trial(self, queryset, name, value):
        return self._subscription_filter(queryset, "trial", value)

    def filter_has_subscription(self, queryset, name, value):
        return self._subscription_filter(queryset, "paid", value)

    @staticmethod
    def _subscription_filter(queryset, kind, value):
        if value not in ("yes", "no"):
            return queryset
        return queryset.filter(selectors.customer_subscription_q(kind, value == "yes", using=queryset.db))
