"""Support reads invoices and payment methods in the admin (ORG-9); nothing here can change them.

Invoices are issued by the monthly run only and never change (BIL-5): every field is read-only,
there is no add, change or delete. Payment methods show the masked IBAN only (BIL-6).
"""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .invoice_models import Invoice, InvoiceLine, PaymentMethod


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    fields = ["position", "customer_name", "description", "quantity", "unit_price", "period_start", "period_end", "net_amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "recipient", "period_start", "net_total", "vat_amount", "gross_total", "vat_treatment", "issued_at"]
    list_filter = ["vat_treatment", "year"]
    search_fields = ["=number", "recipient__name", "=recipient__public_id", "recipient_name", "=recipient_vat_id"]
    list_select_related = ["recipient"]
    show_full_result_count = False
    ordering = ["-year", "-sequence"]
    inlines = [InvoiceLineInline]
    fieldsets = [
        (None, {"fields": ["number", "recipient", "period_start", "period_end", "issued_at", "language", "pdf", "emailed_at"]}),
        (_("Recipient"), {"fields": ["recipient_name", "recipient_street", "recipient_postcode", "recipient_city",
                                     "recipient_country", "recipient_vat_id", "recipient_email"]}),
        (_("Amounts"), {"fields": ["currency", "net_total", "vat_treatment", "vat_rate", "vat_amount", "gross_total",
                                   "vat_note", "payment_method_text", "issuer"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Invoice._meta.fields]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["organization", "kind", "masked_iban", "mandate_reference", "is_default", "created_at", "removed_at"]
    list_filter = ["kind", "is_default"]
    search_fields = ["organization__name", "=organization__public_id", "=mandate_reference"]
    list_select_related = ["organization"]
    show_full_result_count = False
    fields = ["organization", "kind", "account_holder", "masked_iban", "bic", "mandate_reference", "mandate_signed_on",
              "is_default", "created_by", "created_at", "removed_at"]
    readonly_fields = fields

    @admin.display(description=_("IBAN"))
    def masked_iban(self, obj):
        return obj.masked_iban
