"""Forms of the project pages. Validation of meaning lives in the services; these parse input."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .models import Project
from .roles import ProjectRole


def end_of_day(day) -> datetime | None:
    """A role "valid until" a date ends when that day ends (midnight after it, local time)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def day_of_end(expires_at) -> object:
    """The inverse of `end_of_day` for showing a stored end in the date field."""
    if expires_at is None:
        return None
    return (timezone.localtime(expires_at) - timedelta(microseconds=1)).date()


class ProjectForm(forms.Form):
    # A plain form: a ModelForm would change the instance before the service sees the old values.
    name = forms.CharField(label=_("Name"), max_length=Project._meta.get_field("name").max_length)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ProjectDeleteForm(forms.Form):
    confirm_number = forms.CharField(
        label=_("Type the project number to confirm"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, project: Project, **kwargs):
        self.project = project
        super().__init__(*args, **kwargs)

    def clean_confirm_number(self):
        value = self.cleaned_data["confirm_number"].strip().lower()
        if value != self.project.number:
            raise forms.ValidationError(_("This is not the number of this project."))
        return value


class _RoleFields(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ProjectRole.choices, initial=ProjectRole.VIEWER)
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Optional. The role ends when this day ends."),
    )

    @property
    def expires_at(self):
        return end_of_day(self.cleaned_data.get("valid_until"))


class ProjectMemberAddForm(_RoleFields):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    language = forms.ChoiceField(
        label=_("Language of the email"),
        choices=settings.LANGUAGES,
        help_text=_("Used for the invitation of a person who has no account yet."),
    )

    field_order = ["email", "role", "valid_until", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = translation.get_language()


class ProjectMemberChangeForm(_RoleFields):
    pass
