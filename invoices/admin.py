"""Support reads invoices and payment methods in the admin (ORG-9); nothing here can change them.

Invoices are issued by the monthly run only and never change (BIL-5): every field is read-only,
there is no add, change or delete. Payment methods show the masked IBAN only (BIL-6). The PDF is
private (no URL): the admin links to its own download view, which the admin's view permission guards.
"""

from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from portal.admin import ReadOnlyAdminMixin
from portal.files import private_file_response

from .models import Invoice, InvoiceLine, PaymentMethod


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    fields = [
        "position",
        "customer_name",
        "description",
        "quantity",
        "unit_price",
        "period_start",
        "period_end",
        "net_amount",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "recipient",
        "period_start",
        "net_total",
        "vat_amount",
        "gross_total",
        "vat_treatment",
        "issued_at",
    ]
    list_filter = ["vat_treatment", "year"]
    search_fields = ["=number", "recipient__name", "=recipient__public_id", "recipient_name", "=recipient_vat_id"]
    list_select_related = ["recipient"]
    show_full_result_count = False
    ordering = ["-year", "-sequence"]
    inlines = [InvoiceLineInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "recipient",
                    "period_start",
                    "period_end",
                    "issued_at",
                    "language",
                    "pdf_download",
                    "emailed_at",
                ]
            },
        ),
        (
            _("Recipient"),
            {
                "fields": [
                    "recipient_name",
                    "recipient_street",
                    "recipient_postcode",
                    "recipient_city",
                    "recipient_country",
                    "recipient_vat_id",
                    "recipient_email",
                ]
            },
        ),
        (
            _("Amounts"),
            {
                "fields": [
                    "currency",
                    "net_total",
                    "vat_treatment",
                    "vat_rate",
                    "vat_amount",
                    "gross_total",
                    "vat_note",
                    "payment_method_text",
                    "issuer",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Invoice._meta.fields] + ["pdf_download"]

    @admin.display(description=_("PDF"))
    def pdf_download(self, obj):
        if not obj or not obj.pdf:
            return "-"
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.pdf_filename)

    def get_urls(self):
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return [
            # Not wrapped in admin_view: a private file answers 404, never a login redirect.
            path("<path:object_id>/pdf/", never_cache(self.pdf_view), name="{}_{}_pdf".format(*info)),
        ] + super().get_urls()

    def pdf_view(self, request, object_id):
        """The stored PDF for support staff who may view this invoice in the admin; 404 otherwise."""
        if not self.admin_site.has_permission(request):
            raise Http404
        invoice = self.get_object(request, object_id)
        if invoice is None or not self.has_view_permission(request, invoice) or not invoice.pdf:
            raise Http404
        return private_file_response(
            request, invoice.pdf, filename=invoice.pdf_filename, content_type="application/pdf"
        )


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "organization",
        "kind",
        "masked_iban",
        "mandate_reference",
        "is_default",
        "created_at",
        "removed_at",
    ]
    list_filter = ["kind", "is_default"]
    search_fields = ["organization__name", "=organization__public_id", "=mandate_reference"]
    list_select_related = ["organization"]
    show_full_result_count = False
    fields = [
        "organization",
        "kind",
        "account_holder",
        "masked_iban",
        "bic",
        "mandate_reference",
        "mandate_signed_on",
        "is_default",
        "created_by",
        "created_at",
        "removed_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("IBAN"))
    def masked_iban(self, obj):
        return obj.masked_iban
