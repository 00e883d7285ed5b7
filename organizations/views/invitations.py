"""Browser pages of organizations and accounts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from portal import audit
from portal.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from portal.views import DomainErrorFormMixin, OrgScopedMixin

from . import selectors
from .forms import InvitationAcceptNewAccountForm, InvitationForm, LoginForm, MemberRoleForm, PortalPasswordResetForm
from .models import Invitation, Membership
from .roles import OrgRole, can_manage_member
from .services.archive import organization_archive
from .services.invitations import (
    InvitationClosed,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_open_for_token,
    invitation_resend,
    invitation_revoke,
)
from .services.members import may_set_initial_password, member_change_role, member_remove, roles_grantable_in
from .services.profile import (
    PROFILE_FIELDS,
    SUPPORT_CONTACT_FIELDS,
    organization_logo_remove,
    organization_logo_set,
    organization_update,
    support_contact_update,
)
from .services.relations import (
    connection_accept,
    connection_cancel,
    connection_decline,
    connection_request,
    customer_create,
    relation_end,
)
from .services.staff import staff_assign, staff_unassign


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


class OrganizationDashboardView(OrgScopedMixin, TemplateView):
    template_name = "organizations/dashboard.html"
    capability = "organization.view"


# =================================================================================================
# Organization profile, customers, connections, open requests, audit trail (ORG-1 … ORG-4,
# ORG-7, ORG-8, ORG-10, ORG-11). Thin adapters: one service call each; domain errors become
# form errors or messages (never a 500).
# =================================================================================================
# ruff: noqa: E402
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from .forms import (
    ArchiveForm,
    ConnectionRequestForm,
    CustomerCreateForm,
    LogoForm,
    OrganizationProfileForm,
    StaffAssignForm,
    SupportContactForm,
)
from .models import AuditEvent, CustomerRelation, Organization
from .open_requests import open_request_sections

PAGE_SIZE = 25


def _org_url(name: str, org: Organization, **kwargs) -> str:
    return reverse(name, kwargs={"org": org.public_id, **kwargs})


def _back(request, default: str):
    """Redirect to `next` when it is a page of ours, else to `default`."""
    from django.utils.http import url_has_allowed_host_and_scheme

    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect(default)


class OrganizationProfileView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """ORG-1: name, address, VAT ID, billing address of the org in the URL."""

    capability = "organization.change"
    form_class = OrganizationProfileForm
    template_name = "organizations/profile_form.html"
    success_message = gettext_lazy("The organization's details were saved.")

    @property
    def with_billing(self) -> bool:
        # Partner-linked customers: the partner is the invoice recipient (BIL-4); customer
        # accounts don't edit billing; partner staff acting in the org may.
        return not self.org.is_partner_linked or self.org.acting_as_partner

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["with_billing"] = self.with_billing
        return kwargs

    def get_initial(self):
        organization = self.org.organization
        return {name: getattr(organization, name) for name in PROFILE_FIELDS}

    def perform(self, form):
        organization_update(context=self.org, actor=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None):
        return _org_url("organization-dashboard", self.org.organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["logo_form"] = LogoForm()
        return context


class OrganizationLogoView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """ORG-8: upload the logo (every rule checked by the service, clear messages)."""

    capability = "organization.change"
    form_class = LogoForm
    template_name = "organizations/logo_form.html"
    success_message = gettext_lazy("The logo was saved.")

    def perform(self, form):
        organization_logo_set(context=self.org, actor=self.request.user, upload=form.cleaned_data["logo"])

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def get_success_url(self, result=None):
        return _org_url("organization-logo", self.org.organization)


class OrganizationLogoRemoveView(OrgScopedMixin, View):
    capability = "organization.change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        organization_logo_remove(context=self.org, actor=request.user)
        messages.success(request, _("The logo was removed."))
        return redirect(_org_url("organization-logo", self.org.organization))


class SupportContactView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """ORG-8: the partner's support contact, shown to its customers behind the support menu."""

    capability = "support_contact.change"
    form_class = SupportContactForm
    template_name = "organizations/support_contact_form.html"
    success_message = gettext_lazy("The support contact was saved.")

    def get_initial(self):
        return {name: getattr(self.org.organization, name) for name in SUPPORT_CONTACT_FIELDS}

    def perform(self, form):
        support_contact_update(context=self.org, actor=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None):
        return _org_url("organization-support-contact", self.org.organization)


class ResellerEndView(OrgScopedMixin, View):
    """ORG-3: the customer's Owner/Admin ends the relation to its reseller."""

    capability = "customer_relation.end"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        relation = selectors.active_reseller_relation(self.org.organization)
        if relation is None:
            messages.error(request, _("This organization has no reseller."))
        else:
            try:
                relation_end(relation=relation, context=self.org, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("The relation to %(partner)s has ended.") % {"partner": relation.partner.name}
                )
        return redirect(_org_url("organization-dashboard", self.org.organization))


# --- the partner's customers ------------------------------------------------------------------


class CustomerListView(OrgScopedMixin, ListView):
    """ORG-4: the partner's customers, searchable and paginated (constant queries at 10,000)."""

    capability = "customers.view"
    template_name = "organizations/customer_list.html"
    paginate_by = PAGE_SIZE
    context_object_name = "customers"

    def get_queryset(self):
        status = self.request.GET.get("status", Organization.Status.ACTIVE)
        self.status = status if status in Organization.Status.values else Organization.Status.ACTIVE
        return selectors.customer_list(context=self.org, search=self.request.GET.get("q"), status=self.status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["search"] = selectors.search_term(self.request.GET.get("q"))
        context["status"] = self.status
        return context


class CustomerCreateView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """ORG-2: a partner creates a customer org; its contact person is invited as Owner."""

    capability = "customers.manage"
    form_class = CustomerCreateForm
    template_name = "organizations/customer_form.html"

    def perform(self, form):
        data = dict(form.cleaned_data)
        contact = {key: data.pop(key) for key in list(data) if key.startswith("contact_")}
        relation = customer_create(context=self.org, actor=self.request.user, **contact, **data)
        messages.success(
            self.request,
            _("%(customer)s was created. %(email)s received an invitation as Owner.")
            % {"customer": relation.customer.name, "email": contact["contact_email"]},
        )
        return relation

    def get_success_url(self, relation=None):
        if relation is None:
            return _org_url("customer-list", self.org.organization)
        return _org_url("customer-detail", self.org.organization, customer=relation.customer.public_id)


class ConnectionRequestView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """ORG-3: ask an existing org, by its identifier, to accept this partner as reseller."""

    capability = "customers.manage"
    form_class = ConnectionRequestForm
    template_name = "organizations/connection_request_form.html"
    success_message = gettext_lazy("Your request was sent. The organization's Owners and Admins decide on it.")

    def perform(self, form):
        return connection_request(context=self.org, actor=self.request.user, **form.cleaned_data)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def get_success_url(self, relation=None):
        return _org_url("open-requests", self.org.organization)


class _CustomerMixin(OrgScopedMixin):
    """Pages of one linked customer inside the partner org (`customer` = its identifier)."""

    def get_customer(self) -> Organization:
        if not hasattr(self, "_customer"):
            self._customer = selectors.customer_for_partner(context=self.org, public_id=self.kwargs["customer"])
        return self._customer


class CustomerDetailView(_CustomerMixin, TemplateView):
    capability = "customers.view"
    template_name = "organizations/customer_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = self.get_customer()
        context["customer"] = customer
        context["relation"] = selectors.active_reseller_relation(customer)
        context["staff"] = selectors.staff_for_customer(partner=self.org.organization, customer=customer)
        return context


class CustomerStaffView(_CustomerMixin, View):
    """ORG-11: assign or unassign a partner Member to this customer."""

    capability = "staff.assign"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        customer = self.get_customer()
        form = StaffAssignForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a member of your organization."))
        else:
            func = staff_unassign if request.POST.get("remove") else staff_assign
            try:
                func(context=self.org, customer=customer, user_id=form.cleaned_data["user"], actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Saved."))
        return redirect(_org_url("customer-detail", self.org.organization, customer=customer.public_id))


class CustomerRelationEndView(_CustomerMixin, View):
    """ORG-3: the partner ends the relation; its staff lose access at once."""

    capability = "customers.manage"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        customer = self.get_customer()
        relation = selectors.active_reseller_relation(customer)
        try:
            if relation is None:
                raise DomainError(_("This organization is no longer your customer."))
            relation_end(relation=relation, context=self.org, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(_org_url("customer-detail", self.org.organization, customer=customer.public_id))
        messages.success(request, _("The relation to %(customer)s has ended.") % {"customer": customer.name})
        return redirect(_org_url("customer-list", self.org.organization))


class CustomerArchiveView(_CustomerMixin, DomainErrorFormMixin, FormView):
    """ORG-7: archive a linked customer org, confirmed by typing its name."""

    capability = "customers.manage"
    form_class = ArchiveForm
    template_name = "organizations/customer_archive.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customer"] = self.get_customer()
        return context

    def perform(self, form):
        customer = organization_archive(
            context=self.org,
            customer=self.get_customer(),
            confirm_name=form.cleaned_data["confirm_name"],
            actor=self.request.user,
        )
        messages.success(self.request, _("%(customer)s was archived.") % {"customer": customer.name})
        return customer

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if self.request.method == "POST":
            response.status_code = 400
        return response

    def get_success_url(self, result=None):
        return _org_url("customer-list", self.org.organization)


# --- Open requests (shared page) ----------------------------------------------------------------


class OpenRequestsView(OrgScopedMixin, TemplateView):
    """ORG-3, DLG-1: every app's section of requests waiting for this org (or sent by it).

    Partner staff acting inside a customer see it too, but the decisions are the customer's own
    (`requests.decide` is a consent): the sections show a note instead of the buttons."""

    capability = "requests.view"
    template_name = "organizations/open_requests.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sections"] = [
            {"template": section.template, "section": section.context(self.org), "key": section.key}
            for section in open_request_sections()
        ]
        return context


class ConnectionDecisionView(OrgScopedMixin, View):
    """POST accept / decline (the customer) or cancel (the partner) of a connection request."""

    capability = "requests.decide"
    http_method_names = ["post"]
    decision = ""

    def post(self, request, *args, **kwargs):
        from portal.tenancy import restrict

        relation = get_object_or_404(
            restrict(CustomerRelation.objects.select_related("partner", "customer"), self.scope),
            pk=kwargs["relation_id"],
        )
        func, done = {
            "accept": (connection_accept, _("Accepted. %(partner)s is now your reseller.")),
            "decline": (connection_decline, _("Declined.")),
            "cancel": (connection_cancel, _("Your request was withdrawn.")),
        }[self.decision]
        try:
            func(relation=relation, context=self.org, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done % {"partner": relation.partner.name})
        return _back(request, _org_url("open-requests", self.org.organization))


class ConnectionAcceptView(ConnectionDecisionView):
    decision = "accept"


class ConnectionDeclineView(ConnectionDecisionView):
    decision = "decline"


class ConnectionCancelView(ConnectionDecisionView):
    capability = "customers.manage"
    decision = "cancel"


# --- audit trail ----------------------------------------------------------------------------


class AuditTrailView(OrgScopedMixin, ListView):
    """ORG-10: who did what in this org, when, before and after."""

    capability = "audit.view"
    template_name = "organizations/audit_trail.html"
    paginate_by = 50
    context_object_name = "events"
    model = AuditEvent

    def get_queryset(self):
        origin = self.request.GET.get("origin", "all")
        self.origin = origin if origin in selectors.AUDIT_ORIGINS else "all"
        self.with_customers = self.org.organization.is_partner and self.request.GET.get("customers") == "1"
        action_code = self.request.GET.get("action", "")
        self.action_code = action_code if audit.audit_action_get(action_code) else ""
        return selectors.audit_trail(
            context=self.org,
            search=self.request.GET.get("q"),
            origin=self.origin,
            with_customers=self.with_customers,
            action_code=self.action_code,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["search"] = selectors.search_term(self.request.GET.get("q"))
        context["origin"] = self.origin
        context["with_customers"] = self.with_customers
        context["action_code"] = self.action_code
        context["action_choices"] = audit.audit_action_choices()
        # Sentences and only the fields this reader's audience may see (ORG-6: no partner conditions).
        context["entries"] = audit.audit_entries(context["events"], reader=audit.reader_organization(self.org))
        return context


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


def _members_url(org) -> str:
    return reverse("member-list", kwargs={"org": org.public_id})


def _invitations_url(org) -> str:
    return reverse("invitation-list", kwargs={"org": org.public_id})


class MemberListView(OrgScopedMixin, ListView):
    """ORG-5: the org's members, searchable and paginated; managers change roles and remove."""

    model = Membership
    capability = "members.view"
    template_name = "organizations/member_list.html"
    paginate_by = 25

    def get_queryset(self):
        return selectors.member_list(queryset=super().get_queryset(), search=self.request.GET.get("q", ""))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        org = self.org
        can_manage = org.has("members.manage")
        grantable = roles_grantable_in(org) if can_manage else []
        for membership in context["object_list"]:
            membership.manageable = can_manage and can_manage_member(org.role, membership.role)
        context.update(
            query=self.request.GET.get("q", "").strip()[:100],
            can_manage=can_manage,
            can_invite=org.has("members.invite"),
            role_choices=[(role, OrgRole(role).label) for role in grantable],
        )
        return context


class MemberActionView(OrgScopedMixin, SingleObjectMixin, View):
    """POST one change of a member; a refused one becomes a message on the members page."""

    model = Membership
    capability = "members.manage"
    pk_url_kwarg = "member_id"
    http_method_names = ["post"]

    def get_queryset(self):
        return super().get_queryset().select_related("user", "organization")

    def perform(self, membership) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        membership = self.get_object()
        try:
            message = self.perform(membership)
        except NotFound:
            raise
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(_members_url(self.org.organization))
        messages.success(request, message)
        if not Membership.objects.filter(user=request.user, organization=self.org.organization).exists() and (
            self.org.via_partner is None
        ):
            return redirect("home")  # removed oneself
        return redirect(_members_url(self.org.organization))


class MemberRoleChangeView(MemberActionView):
    def perform(self, membership) -> str:
        form = MemberRoleForm(self.request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Choose a valid role."), field="role")
        member_change_role(
            membership=membership, role=form.cleaned_data["role"], actor=self.request.user, context=self.org
        )
        return _("%(person)s is now %(role)s.") % {
            "person": membership.user.email,
            "role": OrgRole(form.cleaned_data["role"]).label,
        }


class MemberRemoveView(MemberActionView):
    http_method_names = ["get", "post"]
    template_name = "organizations/member_remove.html"

    def get(self, request, *args, **kwargs):
        membership = self.get_object()
        return render(request, self.template_name, {"membership": membership})

    def perform(self, membership) -> str:
        member_remove(membership=membership, actor=self.request.user, context=self.org)
        return _("%(person)s was removed from the organization.") % {"person": membership.user.email}


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


class InvitationActionView(OrgScopedMixin, SingleObjectMixin, View):
    model = Invitation
    capability = "members.invite"
    pk_url_kwarg = "invitation_id"
    http_method_names = ["post"]

    def get_queryset(self):
        return super().get_queryset().select_related("organization")

    def perform(self, invitation) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        invitation = self.get_object()
        try:
            message = self.perform(invitation)
        except NotFound:
            raise
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, message)
        return redirect(_invitations_url(self.org.organization))


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
