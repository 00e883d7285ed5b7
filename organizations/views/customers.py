"""The partner's customers: list, create, detail, staff assignment, ending the relation,
archiving (ORG-2, ORG-4, ORG-7, ORG-11)."""

from __future__ import annotations

import tablib
from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView
from django_tables2 import RequestConfig
from django_tables2.export import TableExport

from portal.errors import DomainError, InvalidInput
from portal.tenancy import active_reseller_relation
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin

from .. import selectors
from ..filters import CustomerFilter
from ..forms import ArchiveForm, CustomerBulkForm, CustomerCreateForm, StaffAssignForm
from ..models import Organization
from ..services.archive import BULK_MAX_CUSTOMERS, organization_archive, organization_archive_many
from ..services.relations import PossibleDuplicate, customer_create, relation_end
from ..services.staff import staff_assign, staff_assign_many, staff_unassign
from ..tables import OPTIONAL_COLUMNS, CustomerTable
from .common import org_url

PAGE_SIZE = 25
PER_PAGE_CHOICES = (25, 50, 100)
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_MAX_ROWS = 50_000
BULK_LIST_SHOWN = 50
# The user's column choice, remembered in the session (issue 16).
COLUMNS_SESSION_KEY = "customer_table_columns"


def visible_columns(request) -> list[str]:
    """The optional columns to show: those chosen in this request (the "columns" form sends
    `columns=1` and a `col` per ticked box), else the ones remembered in the session, else all."""
    if request.GET.get("columns"):
        chosen = [name for name in OPTIONAL_COLUMNS if name in request.GET.getlist("col")]
        request.session[COLUMNS_SESSION_KEY] = chosen
        return chosen
    remembered = request.session.get(COLUMNS_SESSION_KEY)
    if isinstance(remembered, list):
        return [name for name in OPTIONAL_COLUMNS if name in remembered]
    return list(OPTIONAL_COLUMNS)


def customer_table(request, org, *, paginate: bool):
    """The filtered customer rows (tenancy: `selectors.customer_list`) as a table, sorted by the
    `sort` parameter; paginated for the page, whole for the export."""
    filterset = CustomerFilter(
        request.GET, queryset=selectors.customer_list(context=org, status=""), partner=org.organization
    )
    rows = selectors.customer_table_columns(filterset.qs)
    shown = visible_columns(request)
    table = CustomerTable(
        rows,
        partner_public_id=org.organization.public_id,
        exclude=[name for name in OPTIONAL_COLUMNS if name not in shown],
    )
    per_page = request.GET.get("per_page", "")
    per_page = int(per_page) if per_page.isdigit() and int(per_page) in PER_PAGE_CHOICES else PAGE_SIZE
    RequestConfig(request, paginate={"per_page": per_page} if paginate else False).configure(table)
    return filterset, table


def bulk_actions_for(org) -> dict:
    """The bulk actions the user's role allows in the partner org (the role table decides)."""
    actions = {}
    if org.has("staff.assign"):
        actions["assign_staff"] = _("Assign staff")
    if org.has("offers.send"):
        actions["send_offer"] = _("Send an offer")
    if org.has("customers.manage"):
        actions["archive"] = _("Archive")
    return actions


class CustomerListView(OrgScopedMixin, TemplateView):
    """ORG-4, issue 16: the partner's customers as a table – filters, sorting, column choice,
    pagination, export and bulk actions; a constant number of queries at 10,000 customers."""

    capability = "customers.view"
    template_name = "organizations/customer_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset, table = customer_table(self.request, self.org, paginate=True)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("export", None)
        context.update(
            filterset=filterset,
            table=table,
            page_obj=table.page,
            paginator=table.paginator,
            customers=[row.record for row in table.page.object_list],
            visible_columns=visible_columns(self.request),
            column_choices=[(name, table.base_columns[name].verbose_name) for name in OPTIONAL_COLUMNS],
            per_page_choices=PER_PAGE_CHOICES,
            per_page=table.paginator.per_page,
            export_query=query.urlencode(),
            bulk_actions=bulk_actions_for(self.org),
            filtered=any(self.request.GET.get(key) for key in ("q", "staff", "has_trial", "has_subscription")),
        )
        return context


class CustomerExportView(OrgScopedMixin, View):
    """Issue 16: the filtered, sorted rows of the customer table as CSV or XLSX (tablib), with the
    visible columns. Same tenancy scope as the page; bounded to `EXPORT_MAX_ROWS` rows."""

    capability = "customers.view"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        export_format = request.GET.get("export", "csv")
        if export_format not in EXPORT_FORMATS:
            return HttpResponseBadRequest(_("Choose CSV or XLSX."))
        filterset, table = customer_table(request, self.org, paginate=False)
        if filterset.qs.count() > EXPORT_MAX_ROWS:
            messages.error(
                request,
                _("At most %(max)s customers can be exported at once. Narrow the filter.") % {"max": EXPORT_MAX_ROWS},
            )
            return redirect(org_url("customer-list", self.org.organization))
        rows = table.export_rows(table.data.data, exclude_columns=[])
        dataset = tablib.Dataset(title=str(_("Customers")))
        dataset.headers = next(rows)
        for row in rows:
            dataset.append(row)
        stamp = timezone.localdate().isoformat()
        response = HttpResponse(dataset.export(export_format), content_type=TableExport.FORMATS[export_format])
        filename = f"customers-{self.org.organization.public_id}-{stamp}.{export_format}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class CustomerBulkView(OrgScopedMixin, TemplateView):
    """Issue 16: an action on the customers selected in the table. GET shows the confirmation
    (how many customers, which, and what the action needs); POST runs the service once for all."""

    capability = "customers.manage"
    template_name = "organizations/customer_bulk.html"

    def dispatch(self, request, *args, **kwargs):
        self.action = request.POST.get("action") if request.method == "POST" else request.GET.get("action")
        return super().dispatch(request, *args, **kwargs)

    def _selection(self, data):
        identifiers = data.getlist("customers")[: BULK_MAX_CUSTOMERS + 1]
        return selectors.customers_by_identifier(context=self.org, identifiers=identifiers)

    def _form(self, data=None):
        return CustomerBulkForm(data, action=self.action, context=self.org)

    def _back_to_list(self, message):
        messages.error(self.request, message)
        return redirect(org_url("customer-list", self.org.organization))

    def get(self, request, *args, **kwargs):
        if self.action not in bulk_actions_for(self.org):
            return self._back_to_list(_("Choose an action for the selected customers."))
        customers = self._selection(request.GET)
        if not customers:
            return self._back_to_list(_("Select at least one customer."))
        return self.render_to_response(self.get_context_data(customers=customers, form=self._form()))

    def post(self, request, *args, **kwargs):
        form = self._form(request.POST)
        if self.action not in bulk_actions_for(self.org):
            return self._invalid([], form, _("Choose an action for the selected customers."))
        customers = self._selection(request.POST)
        if not customers:
            return self._invalid(customers, form, _("Select at least one customer."))
        if not form.is_valid():
            return self._invalid(customers, form)
        try:
            return self.perform(customers, form.cleaned_data)
        except DomainError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
            return self._invalid(customers, form)

    def _invalid(self, customers, form, message=None):
        if message:
            form.is_valid()  # add_error needs the cleaned form
            form.add_error(None, message)
        response = self.render_to_response(self.get_context_data(customers=customers, form=form))
        response.status_code = 400
        return response

    def perform(self, customers, data):
        actor = self.request.user
        if self.action == "archive":
            count = organization_archive_many(
                context=self.org, customers=customers, confirm_count=data["confirm_count"], actor=actor
            )
            messages.success(
                self.request,
                ngettext("%(count)s customer was archived.", "%(count)s customers were archived.", count)
                % {"count": count},
            )
            return redirect(org_url("customer-list", self.org.organization))
        if self.action == "assign_staff":
            membership = data["membership"]
            count = staff_assign_many(context=self.org, customers=customers, user_id=membership.user_id, actor=actor)
            messages.success(
                self.request,
                ngettext(
                    "%(person)s now reaches %(count)s more customer.",
                    "%(person)s now reaches %(count)s more customers.",
                    count,
                )
                % {"person": membership.user.get_full_name() or membership.user.email, "count": count},
            )
            return redirect(org_url("customer-list", self.org.organization))
        # send_offer: the offers app's own bulk send (a background job with a progress page)
        from offers.services import offer_bulk_send_start

        bulk = offer_bulk_send_start(
            context=self.org,
            template=data["template"],
            message=data["message"],
            customers=[customer.public_id for customer in customers],
            actor=actor,
        )
        messages.success(
            self.request,
            ngettext(
                "Sending the offer to %(count)s customer has started.",
                "Sending the offer to %(count)s customers has started.",
                len(customers),
            )
            % {"count": len(customers)},
        )
        return redirect(org_url("offer-bulk-send-detail", self.org.organization, bulk_send_id=bulk.pk))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customers = kwargs.get("customers", [])
        context.update(
            action=self.action,
            action_label=bulk_actions_for(self.org).get(self.action, ""),
            count=len(customers),
            shown_customers=customers[:BULK_LIST_SHOWN],
            more_count=max(0, len(customers) - BULK_LIST_SHOWN),
        )
        return context


class CustomerCreateView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """ORG-2: a partner creates a customer org; its contact person is invited as Owner."""

    capability = "customers.manage"
    form_class = CustomerCreateForm
    template_name = "organizations/customer_form.html"

    duplicates: list = ()

    def perform(self, form):
        data = dict(form.cleaned_data)
        create_anyway = bool(data.pop("create_anyway", False))
        contact = {key: data.pop(key) for key in list(data) if key.startswith("contact_")}
        try:
            relation = customer_create(
                context=self.org, actor=self.request.user, create_anyway=create_anyway, **contact, **data
            )
        except PossibleDuplicate as error:
            # issue 16: show the matches and offer "Create anyway"; nothing was written
            self.duplicates = error.details["duplicates"]
            form.fields["create_anyway"].widget = forms.CheckboxInput()
            raise
        messages.success(
            self.request,
            _("%(customer)s was created. %(email)s received an invitation as Owner.")
            % {"customer": relation.customer.name, "email": contact["contact_email"]},
        )
        return relation

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["duplicates"] = self.duplicates
        return context

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
