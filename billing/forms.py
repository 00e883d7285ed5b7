"""Forms of the billing pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from .services import MAX_QUANTITY


class _ReadOnceChoiceIterator(ModelChoiceIterator):
    """Iterates the field's queryset itself (read once per form, then its cache) instead of a new
    `.iterator()` query per pass: rendering a select goes over its choices more than once (two
    server-side cursors per page for a catalog of a few products, issue 13)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for product in self.queryset:
            yield self.choice(product)


class ProductChoiceField(forms.ModelChoiceField):
    iterator = _ReadOnceChoiceIterator

    def label_from_instance(self, product) -> str:
        return f"{product.name} ({product.sku})"


class BookingForm(forms.Form):
    """Step 1 of a booking: what and how many (BIL-3). Step 2 confirms the obligation to pay."""

    product = ProductChoiceField(
        label=_("Product"),
        queryset=None,
        empty_label=None,
        error_messages={
            # The choices are the bookable products – for an add-on, the parent product's add-ons.
            "invalid_choice": _("This product cannot be booked here. Choose one of the products offered."),
        },
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        help_text=_("Licences, storage packs or services – as the price list counts the product."),
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products


class ConfirmObligationForm(forms.Form):
    """Step 2: the explicit "order with obligation to pay" (BIL-3, PRJ-5)."""

    confirm_obligation_to_pay = forms.BooleanField(
        label=_("I order with obligation to pay."),
        error_messages={"required": _("Please confirm that you order with obligation to pay.")},
    )


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(label=_("New quantity"), min_value=1, max_value=MAX_QUANTITY)
