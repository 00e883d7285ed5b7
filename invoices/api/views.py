"""`/api/v1/invoices/` (across orgs), `/api/v1/organizations/{org}/invoices/` and
`/api/v1/organizations/{org}/payment-methods/` (BIL-5, BIL-6, ORG-6).

The tenancy base classes resolve the org, check the capability (404 where ORG-6 hides billing
from a partner-linked customer's own accounts) and restrict the queryset; `pdf` answers
`application/pdf` with the stored private file (through django-sendfile2, see portal/files.py) and
404 to everyone who may not have it.
"""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from portal.api.filters import RequestedFilterBackend
from portal.api.pagination import WindowCountPagination
from portal.api.schema import ORG
from portal.api.viewsets import ScopedGenericViewSet, ScopedReadOnlyModelViewSet
from portal.files import PrivateFileViewSetMixin, private_file_response

from ..einvoice import xrechnung_response
from ..itemisation import itemisation_file_response, itemisation_response
from ..models import Invoice, PaymentMethod
from ..selectors import (
    invoice_api_list,
    invoice_for_user,
    invoice_lines,
    invoice_section_totals,
    payment_method_list,
)
from ..services import payment_methods as services
from ..services.issuing import invoice_itemisation_request, invoice_pdf_request, invoice_xrechnung_request
from .serializers import (
    InvoiceDetailSerializer,
    InvoiceLineSerializer,
    InvoiceSectionSerializer,
    InvoiceSerializer,
    PaymentMethodCreateSerializer,
    PaymentMethodSerializer,
    section_rows_data,
)


class PDFRenderer(BaseRenderer):
    """Lets clients ask for `Accept: application/pdf`; the action answers with the file itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        # An error (404, 401) asked for as PDF: the one JSON error body, never a broken PDF.
        return JSONRenderer().render(data)


PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The invoice PDF.")}


class CSVRenderer(BaseRenderer):
    """Lets clients ask for `Accept: text/csv`; the action answers with the streamed CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)  # only errors get here: the one JSON error body


PDF_PENDING_RESPONSE = OpenApiResponse(
    inline_serializer(
        "InvoicePdfBeingPrepared",
        {
            "status": serializers.ChoiceField(choices=["being_prepared"]),
            "detail": serializers.CharField(),
        },
    ),
    description="The PDF is being prepared by the worker (never rendered in the request): retry after "
    "`Retry-After` seconds.",
)
CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The itemisation as CSV.")}


def being_prepared(detail: str) -> JsonResponse:
    """202 while the worker prepares a document. JSON whatever was asked for: a PDF or XML client
    must not take this body for the file."""
    response = JsonResponse({"status": "being_prepared", "detail": detail}, status=status.HTTP_202_ACCEPTED)
    response["Retry-After"] = "5"
    response["Cache-Control"] = "private, no-store"
    return response


# Actions answering a stored file (or 202): they read the invoice's own columns only.
FILE_ACTIONS = frozenset({"pdf", "xrechnung", "itemisation"})
# Actions answering rows of the invoice's lines or sums: of the invoice only its key and recipient.
ROWS_ACTIONS = frozenset({"lines", "sections"})


class _InvoiceViewSetBase(PrivateFileViewSetMixin, ScopedReadOnlyModelViewSet):
    queryset = Invoice.objects.all()
    pagination_class = WindowCountPagination  # an org's invoices: a few per month
    private_file_actions = frozenset({"pdf"})  # every refusal of the PDF is 404
    lookup_url_kwarg = "invoice_id"
    lookup_value_regex = r"\d+"
    default_capability = "invoices.view"
    filterset_fields = ["period_start", "year"]
    filter_backends = [RequestedFilterBackend, SearchFilter, OrderingFilter]  # issue 13: no filterset unless asked
    search_fields = ["number"]
    ordering_fields = ["period_start", "number", "gross_total"]
    route_basename = ""

    def get_queryset(self):
        if self.action in FILE_ACTIONS:
            # a stored file of one invoice: nothing joined, nothing ordered (issue 13)
            return super().get_queryset()
        if self.action in ROWS_ACTIONS:
            # its lines or sums: the invoice found by its key, not loaded with its relations
            return super().get_queryset().only("id", "recipient_id")
        return invoice_api_list(queryset=super().get_queryset())

    def get_object(self):
        read = self._cross_org_read()
        if read is None:
            return super().get_object()
        # Across orgs one invoice by its key: the restriction's rule compiled once per process
        # (`invoice_for_user`), not built with the ORM on every request (issue 13).
        invoice = invoice_for_user(user=self.request.user, pk=int(self.kwargs[self.lookup_url_kwarg]), read=read)
        if invoice is None:
            raise Http404
        self.check_object_permissions(self.request, invoice)
        return invoice

    def _cross_org_read(self) -> str | None:
        """How `invoice_for_user` loads the invoice for this request, None for the general way: in
        an org (its context decides), or with list parameters (DRF applies a list's filters to a
        detail as well)."""
        if self.org_context is not None or getattr(self, "swagger_fake_view", False) or self.request.query_params:
            return None
        if self.action == "retrieve":
            return "api"
        if self.action in ROWS_ACTIONS:
            return "key"
        return "whole" if self.action in FILE_ACTIONS else None

    def get_serializer_class(self):
        if self.action == "lines":
            return InvoiceLineSerializer
        if self.action == "sections":
            return InvoiceSectionSerializer
        return InvoiceDetailSerializer if self.action == "retrieve" else InvoiceSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["action_path"] = self._action_path
        if self.org_context is not None and self.org_context.acting_as_partner:
            context["section_customer"] = self.org_context.organization
        return context

    def _action_path(self, invoice: Invoice, action: str) -> str:
        kwargs = {"invoice_id": invoice.pk}
        if self.org_context is not None:
            kwargs["org"] = self.org_context.organization.public_id
        return reverse(f"{self.route_basename}-{action}", kwargs=kwargs)

    def _section_customer(self, invoice: Invoice):
        # Inside a customer org, partner staff get only that customer's lines of the partner invoice.
        if self.org_context is not None and invoice.recipient_id != self.org_context.organization.pk:
            return self.org_context.organization
        return None

    @extend_schema(
        summary="The invoice as PDF (202 while the worker prepares it)",
        responses={**PDF_RESPONSE, (202, "application/json"): PDF_PENDING_RESPONSE},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def pdf(self, request, *args, **kwargs):
        invoice = self.get_object()
        if not invoice_pdf_request(invoice=invoice):
            return being_prepared(_("The PDF is being prepared. Try again in a moment."))
        return private_file_response(
            request, invoice.pdf, filename=invoice.pdf_filename, content_type="application/pdf"
        )

    @extend_schema(
        summary="The invoice's lines in print order, paginated (issue 13)",
        responses={200: InvoiceLineSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def lines(self, request, *args, **kwargs):
        invoice = self.get_object()
        lines = invoice_lines(invoice=invoice, customer=self._section_customer(invoice))
        page = self.paginate_queryset(lines)
        return self.get_paginated_response(InvoiceLineSerializer(page, many=True).data)

    @extend_schema(
        summary="The sums per customer org in print order, paginated (issue 13)",
        responses={200: InvoiceSectionSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def sections(self, request, *args, **kwargs):
        invoice = self.get_object()
        sections = invoice_section_totals(invoice=invoice, customer=self._section_customer(invoice))
        page = self.paginate_queryset(sections)
        return self.get_paginated_response(section_rows_data(page))

    @extend_schema(
        summary="The per-customer itemisation as CSV (202 while the worker prepares it)",
        description=(
            "The whole invoice's itemisation is built once by the worker (headers in the invoice's "
            "language) and answered 202 until it exists; inside a customer org, partner staff get "
            "that customer's lines at once."
        ),
        responses={**CSV_RESPONSE, (202, "application/json"): PDF_PENDING_RESPONSE},
        filters=False,
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer], filter_backends=[])
    def itemisation(self, request, *args, **kwargs):
        invoice = self.get_object()
        customer = self._section_customer(invoice)
        if customer is not None:
            return itemisation_response(invoice=invoice, customer=customer)
        if not invoice_itemisation_request(invoice=invoice):
            return being_prepared(_("The itemisation is being prepared. Try again in a moment."))
        return itemisation_file_response(request, invoice)


@extend_schema(tags=["invoices"])
@extend_schema_view(
    list=extend_schema(
        summary="Invoices of the orgs whose billing the caller manages (Owner/Admin; never a partner-linked customer's own accounts)"
    ),
    retrieve=extend_schema(summary="One invoice with its lines grouped by customer org"),
)
class InvoiceViewSet(_InvoiceViewSetBase):
    org_scoped = False
    route_basename = "invoice-api"


@extend_schema(parameters=[ORG], tags=["invoices"])
@extend_schema_view(
    list=extend_schema(
        summary="Invoices of this org; in a linked customer org (partner staff) the partner's invoices with a section for it"
    ),
    retrieve=extend_schema(summary="One invoice; in a linked customer org only that customer's section"),
)
class OrganizationInvoiceViewSet(_InvoiceViewSetBase):
    route_basename = "organization-invoice-api"


@extend_schema(parameters=[ORG], tags=["payment methods"])
@extend_schema_view(
    list=extend_schema(summary="Payment methods of this org (IBAN masked)"),
    create=extend_schema(
        summary="Add SEPA direct debit or bank transfer",
        request=PaymentMethodCreateSerializer,
        responses={201: PaymentMethodSerializer},
    ),
    destroy=extend_schema(summary="Remove a payment method"),
)
class PaymentMethodViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, ScopedGenericViewSet
):
    queryset = PaymentMethod.objects.all()
    lookup_url_kwarg = "payment_method_id"
    lookup_value_regex = r"\d+"
    serializer_class = PaymentMethodSerializer
    default_capability = "payment_methods.manage"
    filter_backends: list = []

    def get_queryset(self):
        return payment_method_list(queryset=super().get_queryset())

    def get_serializer_class(self):
        return PaymentMethodCreateSerializer if self.action == "create" else PaymentMethodSerializer

    def create(self, request, *args, **kwargs):
        serializer = PaymentMethodCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = services.payment_method_add(context=self.org_context, actor=request.user, **serializer.validated_data)
        return Response(PaymentMethodSerializer(method).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.payment_method_remove(
            context=self.org_context, payment_method_id=self.get_object().pk, actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Use this payment method for future invoices", request=None, responses={200: PaymentMethodSerializer}
    )
    @action(detail=True, methods=["post"])
    def default(self, request, *args, **kwargs):
        method = services.payment_method_set_default(
            context=self.org_context, payment_method_id=self.get_object().pk, actor=request.user
        )
        return Response(PaymentMethodSerializer(method).data)


XML_RESPONSE = {
    (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="The XRechnung 3.0 CII XML.")
}


class XMLRenderer(PDFRenderer):
    """`Accept: application/xml` for the XRechnung action; errors stay the one JSON body."""

    media_type = "application/xml"
    format = "xml"


class _XRechnungActionMixin:
    """`…/invoices/{id}/xrechnung/`: the invoice as XRechnung XML, same access as `pdf` (404 on
    refusal) and, like it, the stored file or 202 while the worker builds it (issue 13)."""

    private_file_actions = frozenset({"pdf", "xrechnung"})

    @extend_schema(
        summary="The invoice as XRechnung 3.0 (CII XML; 202 while the worker prepares it)",
        responses={**XML_RESPONSE, (202, "application/json"): PDF_PENDING_RESPONSE},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, XMLRenderer])
    def xrechnung(self, request, *args, **kwargs):
        invoice = self.get_object()
        if not invoice_xrechnung_request(invoice=invoice):
            return being_prepared(_("The XRechnung XML is being prepared. Try again in a moment."))
        return xrechnung_response(request, invoice)


@extend_schema(tags=["invoices"])
class InvoiceXRechnungViewSet(_XRechnungActionMixin, InvoiceViewSet):
    pass


@extend_schema(parameters=[ORG], tags=["invoices"])
class OrganizationInvoiceXRechnungViewSet(_XRechnungActionMixin, OrganizationInvoiceViewSet):
    pass
