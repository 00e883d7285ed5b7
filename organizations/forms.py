from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from portal.emails import email_enqueue_rendered

from .roles import OrgRole


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))


class PortalPasswordResetForm(PasswordResetForm):
    """Password reset by email (PLT-1), sent through the outbox in the account's language.

    Django's form already answers the same for unknown addresses (no enumeration).
    """

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None):
        user = context["user"]
        with translation.override(user.language or None):
            subject = " ".join(render_to_string(subject_template_name, context).split())
            body = render_to_string(email_template_name, context)
        email_enqueue_rendered(to=to_email, subject=subject, body=body)


# --- ORG-5: members and invitations ---------------------------------------------------------------


class InvitationAcceptNewAccountForm(forms.Form):
    """The accept page for an address without an account: name and password."""

    first_name = forms.CharField(label=_("First name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label=_("Last name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
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
        label=_("Language of the email"), choices=settings.LANGUAGES,
        help_text=_("Where the address already has an account, the email is in that account's language."),
    )
    initial_password = forms.CharField(
        label=_("Initial password (optional)"), required=False, strip=False,
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
