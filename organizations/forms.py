from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from portal.emails import email_enqueue_rendered


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
