"""API representations of invoices and payment methods (BIL-5, BIL-6). Amounts are decimal strings."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import ModelSerializer

from ..models import Invoice, InvoiceLine, PaymentMethod
from ..selectors import invoice_section_count, invoice_section_totals, section_total


class InvoiceOrganizationSerializer(serializers.Serializer):
    public_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class InvoiceLineSerializer(ModelSerializer):
    customer = serializers.SerializerMethodField(help_text=_("The customer org the line was billed for."))

    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "customer",
            "description",
            "quantity",
            "unit_price",
            "period_start",
            "period_end",
            "net_amount",
        ]
        read_only_fields = fields

    @extend_schema_field(InvoiceOrganizationSerializer)
    def get_customer(self, line: InvoiceLine) -> dict:
        return {"public_id": line.customer_public_id, "name": line.customer_name}


class InvoiceSectionSerializer(serializers.Serializer):
    customer = InvoiceOrganizationSerializer(read_only=True, help_text=_("The customer org the lines were billed for."))
    line_count = serializers.IntegerField(read_only=True)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)


class InvoiceSerializer(ModelSerializer):
    recipient = InvoiceOrganizationSerializer(read_only=True)
    pdf_url = serializers.SerializerMethodField(help_text=_("The PDF (application/pdf)."))
    corrects = serializers.CharField(
        source="corrects.number",
        default=None,
        allow_null=True,
        read_only=True,
        help_text=_("For a credit note: the number of the invoice it corrects."),
    )
    # The ISO code as stored. Read-only, so not a ChoiceField: that one translated all 250 country
    # names on every response (issue 13: a good part of a short list's time).
    recipient_country = serializers.CharField(read_only=True, help_text=_("ISO 3166-1 alpha-2 country code."))

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "corrects",
            "reason",
            "recipient",
            "period_start",
            "period_end",
            "issued_at",
            "currency",
            "language",
            "recipient_name",
            "recipient_street",
            "recipient_postcode",
            "recipient_city",
            "recipient_country",
            "recipient_vat_id",
            "vat_treatment",
            "vat_rate",
            "vat_note",
            "net_total",
            "vat_amount",
            "gross_total",
            "payment_method_text",
            "overdue_since",
            "paid_at",
            "pdf_url",
        ]
        read_only_fields = fields

    def _url(self, invoice: Invoice, action: str) -> str:
        request = self.context.get("request")
        path = self.context["action_path"](invoice, action)  # set by the viewset: its own routes
        return request.build_absolute_uri(path) if request else path

    def get_pdf_url(self, invoice: Invoice) -> str:
        return self._url(invoice, "pdf")


class InvoiceDetailSerializer(InvoiceSerializer):
    """Issue 13: totals and the first sums per section; all sums are paginated at `sections_url`
    and the lines at `lines_url` (an invoice may hold 10,000 of each), the whole itemisation is the
    CSV at `itemisation_url`."""

    sections = serializers.SerializerMethodField(
        help_text=_("The first sums per customer org, in print order (all of them: sections_url).")
    )
    section_count = serializers.SerializerMethodField(help_text=_("How many customer orgs the invoice has sums for."))
    sections_url = serializers.SerializerMethodField(
        help_text=_("All sums per customer org, paginated (?page=, ?page_size= up to 100).")
    )
    lines_url = serializers.SerializerMethodField(help_text=_("The lines, paginated (?page=, ?page_size= up to 100)."))
    itemisation_url = serializers.SerializerMethodField(help_text=_("All lines with their customer org as CSV."))
    pdf_ready = serializers.SerializerMethodField(
        help_text=_("False while the PDF is being prepared: pdf_url then answers 202.")
    )

    class Meta(InvoiceSerializer.Meta):
        fields = InvoiceSerializer.Meta.fields + [
            "pdf_ready",
            "lines_url",
            "itemisation_url",
            "section_count",
            "sections_url",
            "sections",
        ]
        read_only_fields = fields

    def get_pdf_ready(self, invoice: Invoice) -> bool:
        return bool(invoice.pdf)

    def get_lines_url(self, invoice: Invoice) -> str:
        return self._url(invoice, "lines")

    def get_itemisation_url(self, invoice: Invoice) -> str:
        return self._url(invoice, "itemisation")

    def get_sections_url(self, invoice: Invoice) -> str:
        return self._url(invoice, "sections")

    def get_section_count(self, invoice: Invoice) -> int:
        return invoice_section_count(invoice=invoice, customer=self.context.get("section_customer"))

    @extend_schema_field(InvoiceSectionSerializer(many=True))
    def get_sections(self, invoice: Invoice) -> list[dict]:
        # Inside a customer org, partner staff get that customer's section of the partner invoice.
        rows = invoice_section_totals(invoice=invoice, customer=self.context.get("section_customer"))
        return section_rows_data(rows[:SECTIONS_IN_DETAIL])


# Issue 13: the detail carries at most this many sums per customer; the rest are at `sections_url`.
SECTIONS_IN_DETAIL = 50


def section_rows_data(rows) -> list[dict]:
    """Rows of `invoice_section_totals` as the API shows them: `InvoiceSectionSerializer(many=True)`'s
    representation, built directly with its own field for the subtotal (issue 13: DRF's per-field
    machinery over 50 sums was a sixth of an invoice's detail)."""
    subtotal = InvoiceSectionSerializer._declared_fields["subtotal"].to_representation
    return [
        {
            "customer": {"public_id": s.customer_public_id, "name": s.customer_name},
            "line_count": s.line_count,
            "subtotal": subtotal(s.subtotal),
        }
        for s in map(section_total, rows)
    ]


class PaymentMethodSerializer(ModelSerializer):
    masked_iban = serializers.CharField(read_only=True, help_text=_("The IBAN, masked. The full IBAN is never shown."))

    class Meta:
        model = PaymentMethod
        fields = [
            "id",
            "kind",
            "account_holder",
            "masked_iban",
            "bic",
            "mandate_reference",
            "mandate_signed_on",
            "is_default",
            "created_at",
        ]
        read_only_fields = fields


class PaymentMethodCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PaymentMethod.Kind.choices)
    account_holder = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text=_("Direct debit only.")
    )
    iban = serializers.CharField(
        required=False, allow_blank=True, max_length=42, write_only=True, help_text=_("Direct debit only.")
    )
    bic = serializers.CharField(required=False, allow_blank=True, max_length=15)
    accept_mandate = serializers.BooleanField(
        required=False, default=False, help_text=_("Direct debit only: the SEPA mandate is granted (must be true).")
    )
    make_default = serializers.BooleanField(required=False, default=False)
