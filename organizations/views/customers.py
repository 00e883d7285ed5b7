"""The partner's customers: list, create, detail, staff assignment, ending the relation,
archiving (ORG-2, ORG-4, ORG-7, ORG-11)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView
from django_tables2.export import TableExport

from portal.errors import DomainError, InvalidInput, NotFound
from portal.files import PrivateFileMixin, private_file_response
from portal.tenancy import active_reseller_relation
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin

from .. import selectors
from ..forms import ArchiveForm, CustomerBulkForm, CustomerCreateForm, StaffAssignForm
from ..models import CustomerExport, Organization
from ..services.archive import BULK_MAX_CUSTOMERS, organization_archive, organization_archive_many
from ..services.customer_export import customer_export_start
from ..services.relations import PossibleDuplicate, customer_create, relation_end
from ..services.staff import staff_assign, staff_assign_many, staff_unassign
from ..tables import OPTIONAL_COLUMNS, PER_PAGE_CHOICES, chosen_columns, customer_page
from .common import org_url

EXPORT_RETRY_AFTER = 3  # seconds: how soon the "being prepared" page reloads itself
EXPORTS_SHOWN = 20
BULK_LIST_SHOWN = 50
# The user's column choice, remembered in the session (issue 16).
COLUMNS_SESSION_KEY = "customer_table_columns"


def visible_columns(request, query=None) -> list[str]:
    """The optional columns to show (`tables.chosen_columns`); a choice made in this request is
    remembered in the session."""
    query = request.GET if query is None else query
    chosen = chosen_columns(query, request.session.get(COLUMNS_SESSION_KEY))
    if query.get("columns"):
        request.session[COLUMNS_SESSION_KEY] = chosen
    return chosen


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
        columns = visible_columns(self.request)
        bulk_actions = bulk_actions_for(self.org)
        page = customer_page(self.org, self.request.GET, columns=columns, selectable=bool(bulk_actions))
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("export", None)
        context.update(
            filterset=page.filterset,
            table=page.table,
            page_obj=page.page,
            paginator=page.page.paginator,
            customers=page.rows,
            table_head=page.head,
            table_body=page.body,
            visible_columns=columns,
            column_choices=[(name, page.table.base_columns[name].verbose_name) for name in OPTIONAL_COLUMNS],
            per_page_choices=PER_PAGE_CHOICES,
            per_page=page.page.paginator.per_page,
            export_query=query.urlencode(),
            bulk_actions=bulk_actions,
            filtered=any(self.request.GET.get(key) for key in ("q", "staff", "has_trial", "has_subscription")),
        )
        return context


class CustomerExportView(OrgScopedMixin, TemplateView):
    """Issue 16: the user's exports of the customer table (GET) and a new one (POST: the format and
    the table's query string). The rows are written by the worker, never in the request."""

    capability = "customers.view"
    template_name = "organizations/customer_export_list.html"
    http_method_names = ["get", "post"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        exports = list(selectors.customer_exports(context=self.org)[:EXPORTS_SHOWN])
        context.update(exports=exports, retention_days=settings.CUSTOMER_EXPORT_RETENTION_DAYS)
        return context

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if any(export.status == CustomerExport.Status.PENDING for export in response.context_data["exports"]):
            response["Refresh"] = str(EXPORT_RETRY_AFTER)
        return response

    def post(self, request, *args, **kwargs):
        query = QueryDict(request.POST.get("query", "")[:4000])
        try:
            export = customer_export_start(
                context=self.org,
                export_format=request.POST.get("export", ""),
                query=query,
                columns=visible_columns(request, query),
            )
        except InvalidInput as error:
            response = self.render_to_response(self.get_context_data(error=error.message))
            response.status_code = 400
            return response
        return redirect(org_url("customer-export-detail", self.org.organization, export_id=export.pk))


class _CustomerExportMixin(OrgScopedMixin):
    capability = "customers.view"
    requester_only = True  # an export holds what its requester may see (tests/isolation.py)

    def get_export(self) -> CustomerExport:
        export = selectors.customer_exports(context=self.org).filter(pk=self.kwargs["export_id"]).first()
        if export is None:
            raise NotFound(_("Not found."))
        return export


class CustomerExportDetailView(_CustomerExportMixin, TemplateView):
    """One export: "being prepared" (202, reloads itself) until the worker is done, then the
    download link; only its requester sees it (404 for everyone else)."""

    template_name = "organizations/customer_export_detail.html"

    def get(self, request, *args, **kwargs):
        export = self.get_export()
        context = self.get_context_data(export=export, retention_days=settings.CUSTOMER_EXPORT_RETENTION_DAYS)
        response = self.render_to_response(context)
        if export.status == CustomerExport.Status.PENDING:
            response.status_code = 202
            response["Retry-After"] = str(EXPORT_RETRY_AFTER)
            response["Refresh"] = str(EXPORT_RETRY_AFTER)
        response["Cache-Control"] = "private, no-store"
        return response


class CustomerExportDownloadView(PrivateFileMixin, _CustomerExportMixin, View):
    """The prepared file, through django-sendfile2 (portal.files); 404 to anyone but its requester
    in this partner org, and while it is not ready."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        export = self.get_export()
        if export.status != CustomerExport.Status.DONE:
            raise NotFound(_("Not found."))
        return private_file_response(
            request,
            export.file,
            filename=export.filename,
            content_type=TableExport.FORMATS[export.format],
            attachment=True,
        )


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
