"""The 360° page of one organization for support staff (issue 16), read-only.

One page shows what support needs about an org: its reseller, its relations (both directions),
members with roles, subscriptions, invoices, delegations (both sides), open offers and the last
audit events. Each section holds a few rows, its total and a link to the admin list filtered for
the org (a search by the org's identifier, which every one of those lists understands).

Every section costs one query for its rows and one for its total, whatever the org's size, so the
page issues the same number of queries for an org with 3 customers and one with 10,000 (pinned by
a test). A section appears only to a user who may view its model in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.tenancy import active_reseller_relation

from .models import AuditEvent, CustomerRelation, Membership, Organization

ROWS = 10
AUDIT_ROWS = 20


@dataclass
class Section:
    key: str
    title: str
    rows: list
    total: int | None
    list_url: str

    @property
    def more(self) -> bool:
        return self.total is not None and self.total > len(self.rows)


def _list_url(model, organization: Organization, **filters) -> str:
    app_label, model_name = model._meta.app_label, model._meta.model_name
    query = urlencode({"q": organization.public_id, **filters})
    return f"{reverse(f'admin:{app_label}_{model_name}_changelist')}?{query}"


def _may_view(user, model) -> bool:
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def _section(key, title, user, model, queryset, organization, *, rows=ROWS, count=True, **filters) -> Section | None:
    if not _may_view(user, model):
        return None
    return Section(
        key=key,
        title=title,
        rows=list(queryset[:rows]),
        total=queryset.count() if count else None,
        list_url=_list_url(model, organization, **filters),
    )


def organization_overview(organization: Organization, user) -> dict:
    """Everything the 360° page shows of `organization`, as far as `user` may view it."""
    from billing.models import Subscription
    from delegations.models import Delegation
    from invoices.models import Invoice, InvoiceLine
    from offers.models import Offer

    reseller = active_reseller_relation(organization) if _may_view(user, CustomerRelation) else None
    relations = CustomerRelation.objects.filter(Q(partner=organization) | Q(customer=organization))
    members = Membership.objects.filter(organization=organization)
    subscriptions = Subscription.objects.filter(Q(organization=organization) | Q(payer=organization))
    # Its own invoices and its reseller's invoices that bill it (a section of lines for it).
    invoices = Invoice.objects.filter(
        Q(recipient=organization) | Exists(InvoiceLine.objects.filter(invoice=OuterRef("pk"), customer=organization))
    )
    delegations = Delegation.objects.filter(Q(organization=organization) | Q(caretaker=organization))
    offers = Offer.objects.filter(Q(partner=organization) | Q(customer=organization), status__in=Offer.OPEN_STATUSES)
    sections = [
        _section(
            "relations",
            _("Reseller relations"),
            user,
            CustomerRelation,
            relations.select_related("partner", "customer").order_by("-created_at", "-id"),
            organization,
        ),
        _section(
            "members",
            _("Members"),
            user,
            Membership,
            members.select_related("user").order_by("role", "user__email"),
            organization,
        ),
        _section(
            "subscriptions",
            _("Subscriptions"),
            user,
            Subscription,
            subscriptions.with_current_status()
            .select_related("organization", "payer", "product")
            .order_by("-created_at", "-id"),
            organization,
        ),
        _section(
            "invoices",
            _("Invoices"),
            user,
            Invoice,
            invoices.select_related("recipient").order_by("-issued_at", "-id"),
            organization,
        ),
        _section(
            "delegations",
            _("Delegations"),
            user,
            Delegation,
            delegations.with_current_status()
            .select_related("project", "organization", "caretaker")
            .order_by("-created_at", "-id"),
            organization,
        ),
        _section(
            "offers",
            _("Open offers"),
            user,
            Offer,
            offers.select_related("partner", "customer").order_by("-created_at", "-id"),
            organization,
            status__in=",".join(Offer.OPEN_STATUSES),
        ),
        _section(
            "audit",
            _("Recent audit events"),
            user,
            AuditEvent,
            AuditEvent.objects.filter(organization=organization).select_related(
                "organization", "acting_organization", "actor"
            ),
            organization,
            rows=AUDIT_ROWS,
            count=False,
        ),
    ]
    sections = [section for section in sections if section is not None]
    for section in sections:
        if section.key == "audit":
            from portal.audit import Audience, audit_entry

            section.rows = [audit_entry(event, reader=None, audience=Audience.SUPPORT) for event in section.rows]
    return {
        "organization": organization,
        "reseller": reseller,
        "sections": {section.key: section for section in sections},
    }
