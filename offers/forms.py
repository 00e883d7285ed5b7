"""Browser forms of offers; the services validate again and raise domain errors."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LicenseMode
from .services import MAX_MESSAGE, MAX_NAME


class OfferTemplateNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=MAX_NAME)


class OfferTemplateItemForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100000, required=False)
    term_months = forms.IntegerField(label=_("Term in months"), min_value=1, max_value=120, required=False)
    license_mode = forms.ChoiceField(label=_("License mode"), choices=LicenseMode.choices, required=False)
    # Text, not DecimalField: "30,50" and "30.50" both work; the service parses and validates it.
    unit_price = forms.CharField(label=_("Selling price per license and month (EUR)"), max_length=20, required=False)


class OfferSendForm(forms.Form):
    customer = forms.CharField(widget=forms.HiddenInput, max_length=16)
    template = forms.ModelChoiceField(label=_("Offer template"), queryset=None, empty_label=None)
    message = forms.CharField(
        label=_("Message to the customer"),
        required=False,
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class OfferBulkSendForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Offer template"), queryset=None, empty_label=None)
    message = forms.CharField(
        label=_("Message to the customers"),
        required=False,
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    recipients = forms.ChoiceField(
        label=_("Send to"),
        widget=forms.RadioSelect,
        initial="all",
        choices=[("all", _("All my customer organizations")), ("listed", _("The organizations listed below"))],
    )
    identifiers = forms.CharField(
        label=_("Identifiers of customer organizations"),
        required=False,
        help_text=_("One identifier per line (or separated by commas or spaces)."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates

    def clean(self):
        data = super().clean()
        identifiers = [part for part in (data.get("identifiers") or "").replace(",", " ").split() if part]
        if data.get("recipients") == "listed" and not identifiers:
            self.add_error("identifiers", _("Enter at least one identifier."))
        data["customer_identifiers"] = identifiers if data.get("recipients") == "listed" else None
        return data


class OfferDeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=MAX_MESSAGE, widget=forms.Textarea(attrs={"rows": 3})
    )


class WebhookSettingsForm(forms.Form):
    url = forms.URLField(
        label=_("Webhook URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("We POST each new offer as JSON to this address."),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        min_length=16,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("At least 16 characters. Leave empty to keep the current secret."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
