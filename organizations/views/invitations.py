"""Invitations (ORG-5): create, list, resend, revoke, and the invitation link itself."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView
from django.views.generic.detail import SingleObjectMixin

from portal.errors import DomainError, InvalidInput, PermissionDenied
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin

from .. import selectors
from ..forms import InvitationAcceptNewAccountForm, InvitationForm
from ..models import Invitation
from ..roles import OrgRole
from ..services.invitations import (
    InvitationClosed,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_open_for_token,
    invitation_resend,
    invitation_revoke,
)
from ..services.members import may_set_initial_password, roles_grantable_in


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
        if request.user.is_authenticated or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            return render(request, self.template_name, context, status=status)
        # A visitor who has not chosen a language sees the page in the email's language.
        with translation.override(invitation.language):
            response = render(request, self.template_name, context, status=status)
            response["Content-Language"] = invitation.language
        return response

    def _state(self, request, token):
        return invitation_open_for_token(token=token)

    def get(self, request, token):
        try:
            invitation = self._state(request, token)
        except DomainError as error:
            return self._closed(request, error)
        mode = self._mode(request, invitation)
        return self._page(request, invitation, status=403 if mode["mode"] == "wrong_account" else 200, **mode)

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
                membership = invitation_accept(token=token, user=request.user)
            elif mode["mode"] == "new_account":
                form = InvitationAcceptNewAccountForm(request.POST)
                if not form.is_valid():
                    return self._page(request, invitation, status=400, **{**mode, "form": form})
                try:
                    user, membership = invitation_accept_new_account(
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
        messages.success(request, _("Welcome to %(organization)s.") % {"organization": membership.organization.name})
        return redirect("organization-dashboard", org=membership.organization.public_id)


def _invitations_url(org) -> str:
    return reverse("invitation-list", kwargs={"org": org.public_id})


class InvitationCreateView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """ORG-5: invite by email with a role the inviter may grant."""

    capability = "members.invite"
    form_class = InvitationForm
    template_name = "organizations/invitation_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["roles"] = roles_grantable_in(self.org)
        kwargs["allow_initial_password"] = may_set_initial_password(self.org)
        return kwargs

    def get_initial(self):
        return {"role": OrgRole.MEMBER, "language": translation.get_language() or settings.LANGUAGE_CODE}

    def perform(self, form):
        data = form.cleaned_data
        return invitation_create(
            organization=self.org.organization,
            email=data["email"],
            role=data["role"],
            actor=self.request.user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            language=data["language"],
            initial_password=data.get("initial_password") or None,
        )

    def form_valid(self, form):
        self.success_message = _("The invitation to %(email)s is on its way.") % {
            "email": form.cleaned_data["email"].lower()
        }
        return super().form_valid(form)

    def get_success_url(self, invitation=None):
        return _invitations_url(self.org.organization)


class InvitationListView(OrgScopedMixin, ListView):
    """ORG-5: invitations of the org – pending ones first – with resend and revoke."""

    model = Invitation
    capability = "members.invite"
    template_name = "organizations/invitation_list.html"
    paginate_by = 25
    STATUS_TABS = ["pending", "accepted", "revoked", "expired", "all"]

    def get_queryset(self):
        requested = self.request.GET.get("status", "pending")
        self.status = requested if requested in self.STATUS_TABS else "pending"
        return selectors.invitation_list(
            queryset=super().get_queryset(),
            status=None if self.status == "all" else self.status,
            search=self.request.GET.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        grantable = set(roles_grantable_in(self.org))
        for invitation in context["object_list"]:
            invitation.manageable = invitation.role in grantable
        labels = {"all": _("All"), **{value: label for value, label in Invitation.Status.choices}}
        context.update(
            status=self.status,
            tabs=[
                {"key": key, "label": labels[key], "url": f"{_invitations_url(self.org.organization)}?status={key}"}
                for key in self.STATUS_TABS
            ],
        )
        return context


class InvitationActionView(OrgScopedMixin, DomainErrorActionMixin, SingleObjectMixin, View):
    model = Invitation
    capability = "members.invite"
    pk_url_kwarg = "invitation_id"

    def get_queryset(self):
        return super().get_queryset().select_related("organization")

    def get_success_url(self, invitation) -> str:
        return _invitations_url(self.org.organization)


class InvitationResendView(InvitationActionView):
    def perform(self, invitation) -> str:
        invitation_resend(invitation=invitation, actor=self.request.user, context=self.org)
        return _("The invitation to %(email)s was sent again; the previous link no longer works.") % {
            "email": invitation.email
        }


class InvitationRevokeView(InvitationActionView):
    def perform(self, invitation) -> str:
        invitation_revoke(invitation=invitation, actor=self.request.user, context=self.org)
        return _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email}
