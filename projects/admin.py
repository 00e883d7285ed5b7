"""Support staff look into projects and their role grants (ORG-9).

Read-only on purpose: grants carry derived guardian permission rows and every change belongs in
the audit trail, so changes go through the portal's pages and API (the services), not the admin.
"""

from django.contrib import admin

from portal.admin import ReadOnlyAdminMixin

from .models import Project, ProjectRoleGrant


class ProjectRoleGrantInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ProjectRoleGrant
    fields = ["user", "organization", "role", "source", "expires_at", "granted_by", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "name", "organization", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["=number", "name", "organization__name", "organization__public_id"]
    list_select_related = ["organization"]
    readonly_fields = ["number", "organization", "name", "description", "status", "created_by", "created_at"]
    fields = readonly_fields
    inlines = [ProjectRoleGrantInline]
    show_full_result_count = False


@admin.register(ProjectRoleGrant)
class ProjectRoleGrantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["project", "user", "organization", "role", "source", "expires_at"]
    list_filter = ["role", "source"]
    search_fields = ["=project__number", "user__email", "organization__name"]
    list_select_related = ["project", "user", "organization"]
    readonly_fields = ["project", "user", "organization", "role", "source", "expires_at", "granted_by", "created_at"]
    fields = readonly_fields
    show_full_result_count = False
