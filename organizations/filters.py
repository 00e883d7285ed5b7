"""Filters of the partner's customer table (issue 16), with django-filter.

Every filter is a WHERE on the organization row or an EXISTS on an indexed foreign key, so a
filter never multiplies rows and the count stays one query.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import Organization

YES_NO = (("yes", _("Yes")), ("no", _("No")))
# The staff filter lists at most this many people (and always the chosen one): a partner with
# thousands of Members would otherwise render thousands of <option>s on every page.
STAFF_CHOICES_MAX = 200


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, identifier, VAT ID or contact email")}),
    )
    status = django_filters.ChoiceFilter(
        choices=Organization.Status.choices,
        label=_("Status"),
        empty_label=None,
        method="filter_status",
    )
    staff = django_filters.ModelChoiceFilter(
        queryset=None, label=_("Assigned staff"), empty_label=_("Anyone"), method="filter_staff"
    )
    has_trial = django_filters.ChoiceFilter(
        choices=YES_NO, label=_("Trial running"), empty_label=_("Any"), method="filter_has_trial"
    )
    has_subscription = django_filters.ChoiceFilter(
        choices=YES_NO, label=_("Has subscriptions"), empty_label=_("Any"), method="filter_has_subscription"
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
        people = staff.values_list("pk", "user__first_name", "user__last_name", "user__email")
        shown = list(people[:STAFF_CHOICES_MAX])
        chosen = str((data or {}).get("staff") or "")
        if chosen.isdigit() and all(str(pk) != chosen for pk, *_name in shown):
            shown += list(people.filter(pk=int(chosen)))
        field.widget.choices = [("", field.empty_label)] + [
            (pk, f"{first} {last}".strip() or email) for pk, first, last, email in shown
        ]
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
        if value == "yes":
            return queryset.filter(selectors.customer_has_trial_q())
        if value == "no":
            return queryset.exclude(selectors.customer_has_trial_q())
        return queryset

    def filter_has_subscription(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(selectors.customer_has_subscription_q())
        if value == "no":
            return queryset.exclude(selectors.customer_has_subscription_q())
        return queryset
