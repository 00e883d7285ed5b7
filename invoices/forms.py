"""Forms of the payment-method page (BIL-6); validation of the IBAN itself is the service's."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PaymentMethod


class PaymentMethodForm(forms.Form):
    kind = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.Kind.choices, widget=forms.RadioSelect)
    account_holder = forms.CharField(label=_("Account holder"), max_length=200, required=False)
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=42,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
        help_text=_("Only for direct debit. Shown masked afterwards."),
    )
    bic = forms.CharField(label=_("BIC (optional)"), max_length=15, required=False)
    accept_mandate = forms.BooleanField(
        label=_(
            "I authorise the platform to collect the invoice amounts from this account by SEPA direct debit "
            "(SEPA mandate) and instruct my bank to pay them."
        ),
        required=False,
    )
    make_default = forms.BooleanField(label=_("Use for future invoices"), required=False, initial=True)
