"""The partner's customers: list, create, detail, staff assignment, ending the relation,
archiving (ORG-2, ORG-4, ORG-7, ORG-11)."""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from portal.errors import DomainError, InvalidInput
from portal.tenancy import active_reseller_relation
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin

from .. import selectors
from ..forms import ArchiveForm, CustomerCreateForm, StaffAssignForm
from ..models import Organization
from ..services.archive import organization_archive
from ..services.relations import customer_create, relation_end
from ..services.staff import staff_assign, staff_unassign
from .common import org_url

PAGE_SIZE = 25


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
            return org_url("customer-list", self.org.organization)
        return org_url("customer-detail", self.org.organization, customer=relation.customer.public_id)


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
        context["relation"] = active_reseller_relation(customer)
        context["staff"] = selectors.staff_for_customer(partner=self.org.organization, customer=customer)
        return context


class CustomerStaffView(_CustomerMixin, DomainErrorActionMixin, View):
    """ORG-11: assign or unassign a partner Member to this customer."""

    capability = "staff.assign"

    def get_action_object(self):
        return self.get_customer()

    def perform(self, customer) -> str:
        form = StaffAssignForm(self.request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Choose a member of your organization."), field="user")
        func = staff_unassign if self.request.POST.get("remove") else staff_assign
        func(context=self.org, customer=customer, user_id=form.cleaned_data["user"], actor=self.request.user)
        return _("Saved.")

    def get_success_url(self, customer) -> str:
        return org_url("customer-detail", self.org.organization, customer=customer.public_id)


class CustomerRelationEndView(_CustomerMixin, DomainErrorActionMixin, View):
    """ORG-3: the partner ends the relation; its staff lose access at once."""

    capability = "customers.manage"

    def get_action_object(self):
        return self.get_customer()

    def perform(self, customer) -> str:
        relation = active_reseller_relation(customer)
        if relation is None:
            raise DomainError(_("This organization is no longer your customer."))
        relation_end(relation=relation, context=self.org, actor=self.request.user)
        return _("The relation to %(customer)s has ended.") % {"customer": customer.name}

    def get_error_url(self, customer) -> str:
        return org_url("customer-detail", self.org.organization, customer=customer.public_id)

    def get_success_url(self, customer) -> str:
        return org_url("customer-list", self.org.organization)


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
        return org_url("customer-list", self.org.organization)
