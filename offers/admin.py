"""Support maintains the catalog and partner conditions (OFR-1) and reads offers (ORG-9).

Offers, templates and bulk sends are read-only here: their states change only through services.
List pages stay fast at scale (no full result count, related rows joined, indexed searches).
"""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.admin import ReadOnlyAdminMixin

from .models import (
    Offer,
    OfferBulkSend,
    OfferItem,
    OfferTemplate,
    OfferTemplateItem,
    PartnerCondition,
    PartnerTier,
    Product,
    WebhookEndpoint,
    partner_price,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name_en", "name_de", "kind", "term_months", "list_price", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["sku", "name_en", "name_de"]
    ordering = ["sku"]
    fields = ["kind", "sku", "name_en", "name_de", "term_months", "list_price", "reductions_at_term_end", "is_active"]

    def has_delete_permission(self, request, obj=None):
        # Products in offers are referenced (PROTECT); retire them with "available" instead.
        return False


@admin.register(PartnerTier)
class PartnerTierAdmin(admin.ModelAdmin):
    list_display = ["name", "discount_percent"]
    search_fields = ["name"]


@admin.register(PartnerCondition)
class PartnerConditionAdmin(admin.ModelAdmin):
    list_display = ["partner", "tier", "discount_override_percent", "effective_discount"]
    list_select_related = ["partner", "tier"]
    list_filter = ["tier"]
    search_fields = ["partner__name", "=partner__public_id"]
    raw_id_fields = ["partner"]
    readonly_fields = ["example_prices"]

    @admin.display(description=_("effective discount (%)"))
    def effective_discount(self, obj):
        return obj.discount_percent

    @admin.display(description=_("partner prices (first products)"))
    def example_prices(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        rows = [
            f"{p.sku}: {p.list_price} → {partner_price(list_price=p.list_price, discount_percent=obj.discount_percent)}"
            for p in Product.objects.filter(is_active=True).order_by("sku")[:5]
        ]
        return "; ".join(rows) or "–"


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    show_full_result_count = False


class OfferTemplateItemInline(admin.TabularInline):
    model = OfferTemplateItem
    extra = 0
    fields = ["product", "quantity", "term_months", "license_mode", "unit_price"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OfferTemplate)
class OfferTemplateAdmin(ReadOnlyAdmin):
    list_display = ["name", "partner", "updated_at"]
    list_select_related = ["partner"]
    search_fields = ["name", "partner__name", "=partner__public_id"]
    inlines = [OfferTemplateItemInline]


class OfferItemInline(admin.TabularInline):
    model = OfferItem
    extra = 0
    fields = [
        "sku",
        "name_en",
        "quantity",
        "term_months",
        "license_mode",
        "list_price",
        "purchase_price",
        "unit_price",
        "ends_on",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "partner", "customer", "status", "created_at", "decided_at"]
    list_display_links = ["id", "title"]
    list_filter = ["status"]
    list_select_related = ["partner", "customer"]
    search_fields = ["=id", "title", "partner__name", "=partner__public_id", "customer__name", "=customer__public_id"]
    ordering = ["-created_at", "-id"]
    inlines = [OfferItemInline]
    raw_id_fields = ["partner", "customer", "template", "bulk_send", "sent_by", "decided_by", "cancelled_by"]


@admin.register(OfferBulkSend)
class OfferBulkSendAdmin(ReadOnlyAdmin):
    list_display = ["title", "partner", "total", "sent_count", "skipped_count", "status", "created_at"]
    list_select_related = ["partner"]
    search_fields = ["title", "partner__name"]
    exclude = ["customer_ids"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["organization", "url", "is_active", "updated_at"]
    list_select_related = ["organization"]
    search_fields = ["organization__name", "=organization__public_id", "url"]
    exclude = ["secret"]  # the customer's signing secret is not for support's eyes
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, no warning
