"""The organization dashboard, its profile, logo and support contact (ORG-1, ORG-8)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from portal.errors import NotFound
from portal.views import DomainErrorFormMixin, OrgScopedMixin

from ..dashboards import dashboard_panel, dashboard_panel_keys
from ..forms import LogoForm, OrganizationProfileForm, SupportContactForm
from ..models import PROFILE_FIELDS, SUPPORT_CONTACT_FIELDS
from ..services.profile import (
    organization_logo_remove,
    organization_logo_set,
    organization_update,
    support_contact_update,
)
from .common import org_url


class OrganizationDashboardView(OrgScopedMixin, TemplateView):
    """Issue 16: the panels of this org's side (partner, customer, agency), each a count and a
    few rows with a link to the full list (organizations/dashboards.py). The page lays out the
    panels this user may see; each loads from `OrganizationDashboardPanelView` (issue 13)."""

    template_name = "organizations/dashboard.html"
    capability = "organization.view"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["panel_keys"] = dashboard_panel_keys(self.org)
        return context


class OrganizationDashboardPanelView(OrgScopedMixin, TemplateView):
    """One dashboard panel as an HTML fragment; empty where the panel has nothing to say to this
    user, or is not one of the panels their role sees (the page drops the slot). 404 for a key
    that is no panel."""

    template_name = "organizations/_dashboard_panel.html"
    capability = "organization.view"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            context["panel"] = dashboard_panel(self.org, self.kwargs["panel"])
        except KeyError:
            raise NotFound(_("Not found.")) from None
        return context


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
        return org_url("organization-dashboard", self.org.organization)

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
        return org_url("organization-logo", self.org.organization)


class OrganizationLogoRemoveView(OrgScopedMixin, View):
    capability = "organization.change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        organization_logo_remove(context=self.org, actor=request.user)
        messages.success(request, _("The logo was removed."))
        return redirect(org_url("organization-logo", self.org.organization))


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
        return org_url("organization-support-contact", self.org.organization)
