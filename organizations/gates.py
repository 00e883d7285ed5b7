"""The ORG-6 gate, ready for the areas of other apps (billing: payment methods, subscriptions,
add-ons, invoices, support settings).

In a partner-linked customer org these areas are invisible and unreachable for the customer's
own accounts – Owners and Admins included – and answer 404 (never 403, which would reveal them);
partner staff acting in the org, and the accounts of direct customers, reach them by role.

Use one of:
- a capability of the role table with `partner_only=True` (`billing.view`, `billing.manage`,
  `payment_methods.manage`, `support_settings.manage`, or the role-independent `partner_area`)
  as `capability` of an `OrgScopedMixin` view or in `capabilities` of an API viewset; or
- `PartnerOnlyAreaMixin` / `PartnerOnlyAreaViewSetMixin` in front of a view whose own
  capability is not partner-only; or
- `partner_area_visible(org_context)` in templates and selectors (e.g. to hide a menu entry).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from portal.errors import NotFound

PARTNER_AREA = "partner_area"


def partner_area_visible(org_context) -> bool:
    """False for the customer's own accounts in a partner-linked customer org (ORG-6)."""
    return org_context is not None and not org_context.hides(PARTNER_AREA)


def partner_area_require(org_context) -> None:
    if not partner_area_visible(org_context):
        raise NotFound(_("Not found."))


class PartnerOnlyAreaMixin:
    """For `OrgScopedMixin` views: 404 for customer accounts of partner-linked orgs. Put it
    after `OrgScopedMixin` in the bases (the org context is resolved first)."""

    def dispatch(self, request, *args, **kwargs):
        # OrgScopedMixin.dispatch resolves self.org and then calls this through super()
        partner_area_require(getattr(request, "org_context", None))
        return super().dispatch(request, *args, **kwargs)


class PartnerOnlyAreaViewSetMixin:
    """For `ScopedMixin` API viewsets: 404 for customer accounts of partner-linked orgs."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.org_context is not None:
            partner_area_require(self.org_context)
