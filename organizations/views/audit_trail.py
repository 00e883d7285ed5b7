"""The audit trail of an organization (ORG-10)."""

from __future__ import annotations

from django.views.generic import ListView

from portal import audit
from portal.views import OrgScopedMixin

from .. import selectors
from ..models import AuditEvent


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
