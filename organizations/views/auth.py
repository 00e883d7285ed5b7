"""Login, password change and password reset pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from ..account_setup import account_setup_token_generator
from ..forms import LoginForm, PortalPasswordResetForm


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    """Also clears "must change password" (ORG-5: initial passwords set by a partner)."""

    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        if self.request.user.must_change_password:
            get_user_model().objects.filter(pk=self.request.user.pk).update(must_change_password=False)
        return response

    def get_success_url(self):
        # Back to the page the person wanted (e.g. an invitation link) after a forced change.
        next_url = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return next_url
        return super().get_success_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next"] = self.request.POST.get("next") or self.request.GET.get("next") or ""
        context["must_change_password"] = self.request.user.must_change_password
        return context


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


class AccountSetupView(auth_views.PasswordResetConfirmView):
    """A newcomer given access chooses the password (organizations/account_setup.py), is signed in
    and lands on their organization or projects (`home`) – no second trip through the login page."""

    token_generator = account_setup_token_generator
    reset_url_token = "choose-password"
    post_reset_login = True
    post_reset_login_backend = "organizations.backends.EmailBackend"
    success_url = reverse_lazy("home")
    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is set and you are signed in. Welcome!"))
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["account_setup"] = True
        return context
