"""DRF permission class over the tenancy choke point (instead of DjangoObjectPermissions)."""

from rest_framework.permissions import BasePermission


class OrgCapability(BasePermission):
    """Checks the viewset's `capabilities[action]` against the org context resolved in `initial`.

    Missing capability → 403, hidden partner-only area → 404 (raised by `OrgContext.require`).
    """

    def has_permission(self, request, view) -> bool:
        context = getattr(view, "org_context", None)
        capability = view.get_required_capability()
        if capability and context is not None:
            context.require(capability)
        return True
