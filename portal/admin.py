"""Shared admin building blocks."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """An admin or inline that shows rows and never adds, changes or deletes them (support reads;
    writes go through the services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
