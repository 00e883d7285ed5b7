"""Customer relations from either side: a connection request, the decisions on it, the Open
requests page, the customer ending its reseller relation (ORG-3, DLG-1)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from portal.errors import DomainError
from portal.tenancy import active_reseller_relation, restrict
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin

from ..forms import ConnectionRequestForm
from ..models import CustomerRelation
from ..open_requests import open_request_sections
from ..services.relations import (
    connection_accept,
    connection_cancel,
    connection_decline,
    connection_request,
    relation_end,
)
from .common import org_url


class ResellerEndView(OrgScopedMixin, DomainErrorActionMixin, View):
    """ORG-3: the customer's Owner/Admin ends the relation to its reseller."""

    capability = "customer_relation.end"

    def get_action_object(self):
        return active_reseller_relation(self.org.organization)

    def perform(self, relation) -> str:
        if relation is None:
            raise DomainError(_("This organization has no reseller."))
        relation_end(relation=relation, context=self.org, actor=self.request.user)
        return _("The relation to %(partner)s has ended.") % {"partner": relation.partner.name}

    def get_success_url(self, relation) -> str:
        return org_url("organization-dashboard", self.org.organization)


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
        return org_url("open-requests", self.org.organization)


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


class ConnectionDecisionView(OrgScopedMixin, DomainErrorActionMixin, View):
    """POST accept / decline (the customer) or cancel (the partner) of a connection request."""

    capability = "requests.decide"
    follow_next = True
    decision = ""

    def get_action_object(self):
        return get_object_or_404(
            restrict(CustomerRelation.objects.select_related("partner", "customer"), self.scope),
            pk=self.kwargs["relation_id"],
        )

    def perform(self, relation) -> str:
        func, done = {
            "accept": (connection_accept, _("Accepted. %(partner)s is now your reseller.")),
            "decline": (connection_decline, _("Declined.")),
            "cancel": (connection_cancel, _("Your request was withdrawn.")),
        }[self.decision]
        func(relation=relation, context=self.org, actor=self.request.user)
        return done % {"partner": relation.partner.name}

    def get_success_url(self, relation) -> str:
        return org_url("open-requests", self.org.organization)


class ConnectionAcceptView(ConnectionDecisionView):
    decision = "accept"


class ConnectionDeclineView(ConnectionDecisionView):
    decision = "decline"


class ConnectionCancelView(ConnectionDecisionView):
    capability = "customers.manage"
    decision = "cancel"
