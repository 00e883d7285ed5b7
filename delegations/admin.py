"""Support sees every delegation (DLG-7, ORG-9); changes go through services only."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.errors import DomainError

from .models import Delegation, DelegationRequesterBlock
from .services import delegation_end_by_support


class CurrentStatusFilter(admin.SimpleListFilter):
    """The status as users see it: open delegations past their time count as expired."""

    title = _("current status")
    parameter_name = "current_status"

    def lookups(self, request, model_admin):
        return Delegation.Status.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(current_status=self.value())
        return queryset


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project_number",
        "project",
        "organization",
        "caretaker_or_email",
        "direction",
        "current_status_display",
        "ends_at",
        "created_at",
    ]
    list_display_links = ["id", "project_number"]
    list_filter = [CurrentStatusFilter, "status", "direction", "dropped"]
    search_fields = [
        "=requested_number",
        "=project__number",
        "project__name",
        "organization__name",
        "=organization__public_id",
        "caretaker__name",
        "=caretaker__public_id",
        "invited_email",
    ]
    list_select_related = ["project", "organization", "caretaker"]
    show_full_result_count = False
    date_hierarchy = None
    ordering = ["-created_at", "-id"]
    actions = ["end_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "requested_number",
                    "project",
                    "organization",
                    "caretaker",
                    "direction",
                    "dropped",
                    "invited_email",
                    "message",
                ]
            },
        ),
        (_("Status"), {"fields": ["status", "ends_at", "respond_by", "expiry_warned_at"]}),
        (_("History"), {"fields": ["requested_by", "created_at", "decided_by", "decided_at", "ended_by", "ended_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_current_status()

    def get_readonly_fields(self, request, obj=None):
        # Everything is read-only: states change only through services (the action below).
        return [field.name for field in Delegation._meta.fields if field.name != "token"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Never write a whole row from the admin: it could overwrite a concurrent transition."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("project number"), ordering="requested_number")
    def project_number(self, obj):
        return obj.number

    @admin.display(description=_("caretaker"))
    def caretaker_or_email(self, obj):
        return obj.caretaker.name if obj.caretaker_id else obj.invited_email

    @admin.display(description=_("current status"))
    def current_status_display(self, obj):
        return obj.get_current_status_display()

    @admin.action(description=_("End selected delegations (withdraw pending, revoke active)"), permissions=["change"])
    def end_selected(self, request, queryset):
        ended = 0
        for delegation in queryset.select_related("project", "organization", "caretaker"):
            if delegation.status not in Delegation.OPEN_STATUSES:
                continue
            try:
                delegation_end_by_support(delegation=delegation, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{delegation}: {error.message}", messages.WARNING)
                continue
            ended += 1
        self.message_user(
            request,
            ngettext("%(count)d delegation ended.", "%(count)d delegations ended.", ended) % {"count": ended},
            messages.SUCCESS,
        )


@admin.register(DelegationRequesterBlock)
class DelegationRequesterBlockAdmin(admin.ModelAdmin):
    """Which orgs refuse delegation requests from which requesters (issue 11, item 3). Read-only:
    blocks are set and lifted by the org's own Owners/Admins."""

    list_display = ["id", "organization", "blocked_organization", "created_by", "created_at"]
    list_select_related = ["organization", "blocked_organization", "created_by"]
    search_fields = [
        "organization__name",
        "=organization__public_id",
        "blocked_organization__name",
        "=blocked_organization__public_id",
    ]
    ordering = ["-created_at", "-id"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in DelegationRequesterBlock._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
