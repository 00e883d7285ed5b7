"""Support inspects subscriptions (ORG-9) read-only: list, search, filter, one row's details."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import ProductBilling, Subscription, SubscriptionTerm


class CurrentStatusFilter(admin.SimpleListFilter):
    """The status as users see it: a trial or fixed term past its end counts as expired."""

    title = _("current status")
    parameter_name = "current_status"

    def lookups(self, request, model_admin):
        return Subscription.Status.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(current_status=self.value())
        return queryset


class SubscriptionTermInline(admin.TabularInline):
    """BIL-8: the subscription's states in time, what the monthly run bills (read-only)."""

    model = SubscriptionTerm
    fields = ["valid_from", "valid_until", "quantity", "unit_price", "payer"]
    readonly_fields = fields
    ordering = ["valid_from"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    inlines = [SubscriptionTermInline]
    list_display = [
        "id",
        "organization",
        "product",
        "quantity",
        "unit_price",
        "payer",
        "source",
        "current_status_display",
        "term_ends_at",
        "ends_at",
    ]
    list_display_links = ["id", "organization"]
    list_filter = [CurrentStatusFilter, "source", "status", "renews"]
    search_fields = [
        "organization__name",
        "=organization__public_id",
        "payer__name",
        "=payer__public_id",
        "=product__sku",
        "=project__number",
    ]
    list_select_related = ["organization", "product", "payer"]
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    raw_id_fields = ["organization", "payer", "product", "parent", "project", "booked_by"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "organization",
                    "payer",
                    "product",
                    "parent",
                    "project",
                    "source",
                    "offer_id",
                    "offer_item_id",
                ]
            },
        ),
        (_("Licences and price"), {"fields": ["quantity", "unit_price", "resale_unit_price", "license_mode"]}),
        (
            _("Term"),
            {
                "fields": [
                    "status",
                    "starts_at",
                    "term_months",
                    "term_ends_at",
                    "renews",
                    "ends_at",
                    "cancelled_at",
                    "end_reason",
                ]
            },
        ),
        (_("History"), {"fields": ["booked_by", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_current_status()

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Subscription._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("current status"))
    def current_status_display(self, obj):
        return obj.get_current_status_display()


@admin.register(ProductBilling)
class ProductBillingAdmin(admin.ModelAdmin):
    """Issue 16: support maintains how a product is counted (unit) and which products it is an
    add-on to; the add-on picker and "licences in force" read these rows."""

    list_display = ["product", "unit", "unit_size"]
    list_filter = ["unit"]
    search_fields = ["product__sku", "product__name_en", "product__name_de"]
    autocomplete_fields = ["product"]
    filter_horizontal = ["add_on_to"]
    list_select_related = ["product"]
