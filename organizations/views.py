"""Browser pages of organizations and accounts."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.views.generic import TemplateView

from portal.views import OrgScopedMixin

from .forms import LoginForm, PortalPasswordResetForm


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


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


class OrganizationDashboardView(OrgScopedMixin, TemplateView):
    template_name = "organizations/dashboard.html"
    capability = "organization.view"
