"""`/api/v1/invoices/` (across orgs), `/api/v1/organizations/{org}/invoices/` and
`/api/v1/organizations/{org}/payment-methods/` (BIL-5, BIL-6, ORG-6).

The tenancy base classes resolve the org, check the capability (404 where ORG-6 hides billing
from a partner-linked customer's own accounts) and restrict the queryset; `pdf` answers
`application/pdf` with the stored private file (through django-sendfile2, see portal/files.py) and
404 to everyone who may not have it.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from portal.api.viewsets import ScopedGenericViewSet, ScopedReadOnlyModelViewSet
from portal.files import PrivateFileViewSetMixin, private_file_response

from ..models import Invoice, PaymentMethod
from ..selectors import invoice_list, payment_method_list
from ..services import payment_methods as services
from ..services.issuing import invoice_pdf_ensure
from .serializers import (
    InvoiceDetailSerializer,
    InvoiceSerializer,
    PaymentMethodCreateSerializer,
    PaymentMethodSerializer,
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


ORG = OpenApiParameter("org", str, OpenApiParameter.PATH, description="The organization's identifier (ORG-XXXX-XXXX).")
PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The invoice PDF.")}


class _InvoiceViewSetBase(PrivateFileViewSetMixin, ScopedReadOnlyModelViewSet):
    queryset = Invoice.objects.all()
    private_file_actions = frozenset({"pdf"})  # every refusal of the PDF is 404
    lookup_url_kwarg = "invoice_id"
    lookup_value_regex = r"\d+"
    default_capability = "invoices.view"
    filterset_fields = ["period_start", "year"]
    search_fields = ["number"]
    ordering_fields = ["period_start", "number", "gross_total"]
    pdf_route = ""

    def get_queryset(self):
        return invoice_list(queryset=super().get_queryset())

    def get_serializer_class(self):
        return InvoiceDetailSerializer if self.action == "retrieve" else InvoiceSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["pdf_path"] = self._pdf_path
        if self.org_context is not None and self.org_context.acting_as_partner:
            context["section_customer"] = self.org_context.organization
        return context

    def _pdf_path(self, invoice: Invoice) -> str:
        kwargs = {"invoice_id": invoice.pk}
        if self.org_context is not None:
            kwargs["org"] = self.org_context.organization.public_id
        return reverse(self.pdf_route, kwargs=kwargs)

    @extend_schema(summary="The invoice as PDF", responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def pdf(self, request, *args, **kwargs):
        invoice = invoice_pdf_ensure(invoice=self.get_object())
        return private_file_response(
            request, invoice.pdf, filename=invoice.pdf_filename, content_type="application/pdf"
        )


@extend_schema(tags=["invoices"])
@extend_schema_view(
    list=extend_schema(
        summary="Invoices of the orgs whose billing the caller manages (Owner/Admin; never a partner-linked customer's own accounts)"
    ),
    retrieve=extend_schema(summary="One invoice with its lines grouped by customer org"),
)
class InvoiceViewSet(_InvoiceViewSetBase):
    org_scoped = False
    pdf_route = "invoice-api-pdf"


@extend_schema(parameters=[ORG], tags=["invoices"])
@extend_schema_view(
    list=extend_schema(
        summary="Invoices of this org; in a linked customer org (partner staff) the partner's invoices with a section for it"
    ),
    retrieve=extend_schema(summary="One invoice; in a linked customer org only that customer's section"),
)
class OrganizationInvoiceViewSet(_InvoiceViewSetBase):
    pdf_route = "organization-invoice-api-pdf"


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
