"""Support staff work here (ORG-9)."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, CustomerRelation, Membership, Organization, StaffAssignment, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "language", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["is_staff", "is_active", "language"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "must_change_password", "groups"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = ["groups"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "public_id", "kind", "status", "country", "vat_id", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "public_id", "vat_id", "memberships__user__email"]
    readonly_fields = ["public_id", "created_at", "members_group"]
    inlines = [MembershipInline]
    show_full_result_count = False


@admin.register(CustomerRelation)
class CustomerRelationAdmin(admin.ModelAdmin):
    list_display = ["partner", "customer", "status", "created_at", "activated_at", "ended_at"]
    list_filter = ["status"]
    search_fields = ["partner__name", "customer__name", "customer__public_id"]
    raw_id_fields = ["partner", "customer", "requested_by", "decided_by"]
    show_full_result_count = False


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["membership", "customer", "created_at"]
    raw_id_fields = ["membership", "customer"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "target_repr", "actor_email", "organization", "acting_organization"]
    list_filter = ["action"]
    search_fields = ["target_repr", "actor_email", "organization__name"]
    list_select_related = ["organization", "acting_organization"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
