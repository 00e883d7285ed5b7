"""Browser pages of organizations and accounts."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.errors import DomainError, InvalidInput, PermissionDenied
from portal.views import OrgScopedMixin

from . import selectors, services
from .forms import InvitationAcceptNewAccountForm, LoginForm, PortalPasswordResetForm
from .services import InvitationClosed


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


# --- ORG-5: members and invitations ---------------------------------------------------------------


class InvitationAcceptView(View):
    """The link in the invitation email (ORG-5), not inside an org.

    Anonymous: an address without an account chooses name and password here; one with an account
    logs in first (the link only goes to the mailbox owner, so telling them which is no leak).
    Signed in with the invited address: accept. Unknown link 404, used/withdrawn/expired 410,
    another account 403 – each with a clear page.
    """

    template_name = "organizations/invitation_accept.html"

    def _closed(self, request, error):
        return render(request, "organizations/invitation_invalid.html", {"error": error}, status=error.status)

    def _page(self, request, invitation, *, form=None, status=200, **extra):
        context = {"invitation": invitation, "form": form, **extra}
        return render(request, self.template_name, context, status=status)

    def _state(self, request, token):
        return services.invitation_open_for_token(token=token)

    def get(self, request, token):
        try:
            invitation = self._state(request, token)
        except DomainError as error:
            return self._closed(request, error)
        return self._page(request, invitation, **self._mode(request, invitation))

    def _mode(self, request, invitation) -> dict:
        if request.user.is_authenticated:
            if request.user.email.lower() != invitation.email:
                return {"mode": "wrong_account"}
            return {"mode": "accept"}
        if get_user_model().objects.filter(email__iexact=invitation.email).exists():
            return {"mode": "login", "login_url": f"{reverse('login')}?{urlencode({'next': request.path})}"}
        initial = {"first_name": invitation.first_name, "last_name": invitation.last_name}
        return {"mode": "new_account", "form": InvitationAcceptNewAccountForm(initial=initial)}

    def post(self, request, token):
        try:
            invitation = self._state(request, token)
        except DomainError as error:
            return self._closed(request, error)
        mode = self._mode(request, invitation)
        try:
            if mode["mode"] == "accept":
                membership = services.invitation_accept(token=token, user=request.user)
            elif mode["mode"] == "new_account":
                form = InvitationAcceptNewAccountForm(request.POST)
                if not form.is_valid():
                    return self._page(request, invitation, status=400, **{**mode, "form": form})
                try:
                    user, membership = services.invitation_accept_new_account(
                        token=token,
                        first_name=form.cleaned_data["first_name"],
                        last_name=form.cleaned_data["last_name"],
                        password=form.cleaned_data["password1"],
                    )
                except (InvalidInput, PermissionDenied) as error:
                    form.add_error(error.field if error.field in form.fields else None, error.message)
                    return self._page(request, invitation, status=error.status, **{**mode, "form": form})
                login(request, user, backend="organizations.backends.EmailBackend")
            else:
                return self._page(request, invitation, status=403 if mode["mode"] == "wrong_account" else 400, **mode)
        except InvitationClosed as error:
            return self._closed(request, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("invitation-accept", token=token)
        messages.success(
            request, _("Welcome to %(organization)s.") % {"organization": membership.organization.name}
        )
        return redirect("organization-dashboard", org=membership.organization.public_id)
