from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from portal.emails import email_enqueue_rendered

from .models import BILLING_FIELDS
from .roles import OrgRole


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class PortalPasswordResetForm(PasswordResetForm):
    """Password reset by email (PLT-1), sent through the outbox in the account's language.

    Django's form already answers the same for unknown addresses (no enumeration).
    """

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        user = context["user"]
        with translation.override(user.language or None):
            subject = " ".join(render_to_string(subject_template_name, context).split())
            body = render_to_string(email_template_name, context)
        email_enqueue_rendered(to=to_email, subject=subject, body=body)


# --- organization profile, customers, connections (ORG-1 … ORG-4, ORG-7, ORG-8, ORG-11) ------
# Plain forms that parse input; the services validate meaning (VAT ID per country, rules of logos).


def _country_choices() -> list[tuple[str, str]]:
    """The countries named and sorted in the reader's language (django-countries translates as it
    iterates), read anew for each form: a list fixed at import spoke English to German readers
    and was deep-copied for every form (~1 ms per country field)."""
    return [("", "---------"), *countries]


def _country_field(label, required=False):
    return LazyTypedChoiceField(label=label, choices=_country_choices, required=required)


class OrganizationProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    street = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = _country_field(_("Country"))
    vat_id = forms.CharField(
        label=_("VAT ID"),
        max_length=20,
        required=False,
        help_text=_("Checked against the country, e.g. DE123456789."),
    )
    billing_name = forms.CharField(label=_("Billing name"), max_length=200, required=False)
    billing_street = forms.CharField(label=_("Billing street and number"), max_length=200, required=False)
    billing_postcode = forms.CharField(label=_("Billing postcode"), max_length=20, required=False)
    billing_city = forms.CharField(label=_("Billing city"), max_length=100, required=False)
    billing_country = _country_field(_("Billing country"))
    billing_email = forms.EmailField(label=_("Billing email"), required=False)
    billing_address_is_invoice_recipient = forms.BooleanField(
        label=_("Use the billing address as invoice recipient"),
        required=False,
        help_text=_("Leave the billing fields empty to use the address above."),
    )
    billing_buyer_reference = forms.CharField(
        label=_("Buyer reference (Leitweg-ID)"),
        max_length=100,
        required=False,
        help_text=_("Printed on invoices and sent in e-invoices; public authorities give you their Leitweg-ID."),
    )

    BILLING = BILLING_FIELDS

    def __init__(self, *args, with_billing: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_billing:  # partner-linked customers: the partner is the invoice recipient (BIL-4)
            for name in self.BILLING:
                del self.fields[name]


class CustomerCreateForm(OrganizationProfileForm):
    """ORG-2: company details and the contact person, who is invited as the org's Owner."""

    contact_first_name = forms.CharField(label=_("Contact first name"), max_length=150)
    contact_last_name = forms.CharField(label=_("Contact last name"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact email"), help_text=_("Receives an invitation as Owner."))
    contact_language = forms.ChoiceField(label=_("Contact's language"), choices=settings.LANGUAGES, initial="de")
    contact_initial_password = forms.CharField(
        label=_("Initial password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text=_(
            "Instead of choosing one from the invitation link, the contact logs in with this password and must change it at first login. It is never sent by email: tell it in person."
        ),
    )

    create_anyway = forms.BooleanField(
        label=_("Create anyway: this is a different customer"),
        required=False,
        help_text=_("Only shown when a customer with the same name, VAT ID or contact email exists."),
    )

    def __init__(self, *args, show_create_anyway: bool = False, **kwargs):
        super().__init__(*args, with_billing=False, **kwargs)
        self.fields["name"].label = _("Company name")
        if not show_create_anyway:
            # offered once the duplicate warning is on the page (issue 16)
            self.fields["create_anyway"].widget = forms.HiddenInput()


class SupportContactForm(forms.Form):
    support_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    support_email = forms.EmailField(label=_("Email"), required=False)
    support_phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    support_hours = forms.CharField(label=_("Hours"), max_length=200, required=False)
    support_url = forms.URLField(label=_("Website"), required=False, assume_scheme="https")


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Logo"),
        help_text=_("PNG, JPEG or WebP, at least 150×150 pixels, at most 1 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )


class ConnectionRequestForm(forms.Form):
    identifier = forms.CharField(
        label=_("Identifier of the organization"),
        max_length=40,
        help_text=_("Shown on the organization's page, e.g. ORG-7K3M-Q9XT."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "ORG-XXXX-XXXX"}),
    )
    message = forms.CharField(
        label=_("Message (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ArchiveForm(forms.Form):
    confirm_name = forms.CharField(
        label=_("Type the organization's name to confirm"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class StaffAssignForm(forms.Form):
    user = forms.IntegerField(widget=forms.HiddenInput)


class CustomerBulkForm(forms.Form):
    """Issue 16: what a bulk action on selected customers needs, by action."""

    membership = forms.ModelChoiceField(queryset=None, label=_("Member to assign"), required=False)
    template = forms.ModelChoiceField(queryset=None, label=_("Offer template"), required=False)
    message = forms.CharField(
        label=_("Message to the customers (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm_count = forms.CharField(
        label=_("Type the number of selected customers to confirm"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    FIELDS_BY_ACTION = {
        "assign_staff": ("membership",),
        "send_offer": ("template", "message"),
        "archive": ("confirm_count",),
    }

    def __init__(self, *args, action: str, context, **kwargs):
        from portal.tenancy import Scope, restrict

        from .selectors import assignable_staff

        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in self.FIELDS_BY_ACTION.get(action, ()):
                del self.fields[name]
        if "membership" in self.fields:
            self.fields["membership"].queryset = assignable_staff(context.organization)
            self.fields["membership"].required = True
            self.fields["membership"].label_from_instance = lambda m: (
                f"{m.user.get_full_name()} ({m.user.email})" if m.user.get_full_name() else m.user.email
            )
        if "template" in self.fields:
            from offers.models import OfferTemplate  # offers builds on organizations: looked up here

            self.fields["template"].queryset = restrict(
                OfferTemplate.objects.all(), Scope(user=context.user, context=context)
            ).order_by("name", "id")
            self.fields["template"].required = True
        if "confirm_count" in self.fields:
            self.fields["confirm_count"].required = True
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


# --- ORG-5: members and invitations ---------------------------------------------------------------


class InvitationAcceptNewAccountForm(forms.Form):
    """The accept page for an address without an account: name and password."""

    first_name = forms.CharField(
        label=_("First name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class InvitationForm(forms.Form):
    """Invite by email with a role (ORG-5); the roles offered are those the inviter may grant."""

    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Role"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    language = forms.ChoiceField(
        label=_("Language of the email"),
        choices=settings.LANGUAGES,
        help_text=_("Where the address already has an account, the email is in that account's language."),
    )
    initial_password = forms.CharField(
        label=_("Initial password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Instead of choosing a password through the link, the person logs in with this password and must "
            "change it at first login. Tell it to them yourself: passwords are never sent by email."
        ),
    )

    def __init__(self, *args, roles, allow_initial_password: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, OrgRole(role).label) for role in roles]
        if not allow_initial_password:
            del self.fields["initial_password"]


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=OrgRole.choices)
