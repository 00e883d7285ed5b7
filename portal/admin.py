"""Shared admin building blocks, and the API tokens' admin (a token is a password: never shown)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy


class ReadOnlyAdminMixin:
    """An admin or inline that shows rows and never adds, changes or deletes them (support reads;
    writes go through the services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(TokenProxy)


@dataclass(frozen=True)
class _TokenRow:
    pk: int
    email: str

    def __str__(self) -> str:
        return self.email


@admin.register(TokenProxy)
class TokenAdmin(BaseTokenAdmin):
    """Who holds an API token and since when; revoke with the action. The key (DRF stores it as is,
    and it is the token's name everywhere in Django's admin pages) is never shown: no detail or
    delete page, and tokens are not made here (users create theirs in the portal)."""

    list_display = ["holder", "created"]
    list_display_links = None
    actions = ["revoke"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    fields = readonly_fields = ["holder", "created"]
    ordering = ["-created"]

    @admin.display(description=_("user"), ordering="user__email")
    def holder(self, obj):
        return obj.user.email

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def action_checkbox(self, obj):
        # Django names the row by str(obj), which for a token is its key: name it by its holder.
        return super().action_checkbox(_TokenRow(pk=obj.pk, email=obj.user.email))

    def response_action(self, request, queryset):
        # The rows' checkboxes carry the holder's id (TokenProxy.pk), never the key; the action
        # selects tokens by their primary key, the key: translate on the server.
        holders = [value for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if value.isdigit()]
        post = request.POST.copy()
        post.setlist(
            helpers.ACTION_CHECKBOX_NAME,
            list(TokenProxy.objects.filter(user_id__in=holders).values_list("key", flat=True)),
        )
        request.POST = post
        return super().response_action(request, queryset)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # its confirmation page names each token by its key
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        raise Http404

    def delete_view(self, request, object_id, extra_context=None):
        raise Http404

    @admin.action(description=_("Revoke the selected API tokens"), permissions=["delete"])
    def revoke(self, request, queryset):
        count = queryset.count()
        queryset.delete()
        self.message_user(request, _("%(count)d API tokens revoked.") % {"count": count}, messages.SUCCESS)
