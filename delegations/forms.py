"""Browser forms of delegations; the services validate again and raise domain errors."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.numbers import validate_project_number

from .services import MAX_MESSAGE


def end_of_day(day) -> datetime | None:
    """Access "until 31 March" includes that day: it ends at the following midnight, local time."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class DateInput(forms.DateInput):
    input_type = "date"


class DelegationRequestForm(forms.Form):
    project_number = forms.CharField(
        label=_("Project number"),
        max_length=30,
        validators=[validate_project_number],
        help_text=_("The number the project's organization gave you, e.g. p-10042."),
        widget=forms.TextInput(attrs={"placeholder": "p-10042", "autocomplete": "off"}),
    )
    message = forms.CharField(
        label=_("Message"), required=False, max_length=MAX_MESSAGE, widget=forms.Textarea(attrs={"rows": 3})
    )


class DelegationReleaseForm(forms.Form):
    projects = forms.ModelMultipleChoiceField(
        label=_("Projects"),
        queryset=None,
        to_field_name="number",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one project.")},
    )
    email = forms.EmailField(label=_("Caretaker's email address"))
    ends_at = forms.DateField(
        label=_("Access until (inclusive)"),
        required=False,
        widget=DateInput,
        help_text=_("Leave empty for access until revoked."),
    )
    message = forms.CharField(
        label=_("Message"), required=False, max_length=MAX_MESSAGE, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = projects


class DelegationAcceptForm(forms.Form):
    ends_at = forms.DateField(
        label=_("Access until (inclusive)"),
        required=False,
        widget=DateInput,
        help_text=_("Leave empty for access until revoked."),
    )


class ReleaseAcceptForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Your organization that takes care of the projects"),
        queryset=None,
        to_field_name="public_id",
        empty_label=None,
    )

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
