"""Reads of invoices and payment methods, and their tenancy restrictions (BIL-5, BIL-6, ORG-6).

Who sees an invoice:
- in an org's own pages/API (`/o/<org>/billing/…`, `/api/v1/organizations/{org}/invoices/`): the
  org's invoices as recipient; partner staff acting in a linked customer org also see the
  partner's invoices that carry a section for that customer ("partners find each customer org's
  invoices in that org's settings"). Reaching those pages at all needs `billing.view`, which
  the ORG-6 gate hides (404) from a partner-linked customer's own accounts.
- across orgs (`/api/v1/invoices/`): invoices of the orgs where the user holds `billing.view`
  (`portal.tenancy.capability_q`: the same rule as the org's own pages, in SQL).
Every filter is an EXISTS subquery: constant queries however many orgs or invoices exist.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from portal.statements import STAND_IN_ID, STAND_IN_MOMENT, CompiledQuery
from portal.tenancy import Scope, capability_q, restriction

from .models import Invoice, InvoiceCustomerTotal, InvoiceLine, PaymentMethod


def retention_start(now=None):
    """BIL-8: the earliest issue date still within the legal retention period
    (`INVOICE_RETENTION_YEARS` before `now`)."""
    now = now or timezone.now()
    years = settings.INVOICE_RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def retained_q(retained_from=None) -> Q:
    """BIL-8: invoices within the legal retention period (issued at or after `retention_start()`)."""
    return Q(issued_at__gte=retained_from or retention_start())


def invoice_reach_q(user, *, retained_from=None) -> Q:
    """Across orgs: invoices addressed to an org where `user` holds "billing.view", or "invoices.view"
    within the retention period (`portal.tenancy.capability_q`: the rule of the org's own pages, in SQL)."""
    return capability_q(user, "billing.view", prefix="recipient__") | (
        capability_q(user, "invoices.view", prefix="recipient__") & retained_q(retained_from)
    )


@restriction(Invoice)
def _restrict_invoices(queryset: QuerySet, *, scope: Scope, action: str) -> QuerySet:
    """Who sees an invoice:

    - "billing.view" in the org (its managers while it pays itself, partner staff inside a linked
      customer): the org's invoices, and the partner's invoices with a section for the customer;
    - BIL-8: the Owners/Admins of the org an invoice is addressed to ("invoices.view") always see
      it for the retention period, whatever the org's relations are now – a formerly direct
      customer keeps its old invoices after connecting to a reseller. Invoices addressed to the
      partner are never reached this way, so a linked customer never sees what its partner pays.
    """
    context = scope.context
    if context is not None:
        organization = context.organization
        condition = Q(pk__in=[])
        if context.has("invoices.view"):
            condition |= Q(recipient=organization) & retained_q()
        if context.has("billing.view"):
            condition |= Q(recipient=organization)
            if context.acting_as_partner:
                condition |= Q(recipient=context.via_partner) & Q(
                    Exists(InvoiceLine.objects.filter(invoice=OuterRef("pk"), customer=organization))
                )
        return queryset.filter(condition)
    return queryset.filter(invoice_reach_q(scope.user))


@restriction(PaymentMethod)
def _restrict_payment_methods(queryset: QuerySet, *, scope: Scope, action: str) -> QuerySet:
    context = scope.context
    if context is None or not context.has("payment_methods.manage"):
        return queryset.none()
    return queryset.filter(organization=context.organization, removed_at__isnull=True)


def invoice_list(*, queryset: QuerySet) -> QuerySet[Invoice]:
    """A restricted invoice queryset, ready for a list (no per-row queries)."""
    return queryset.select_related("recipient", "corrects").order_by("-period_start", "-number")


# How `invoice_for_user` loads the invoice: as the API shows it; only its key and recipient (its
# lines and sums are read on their own); its own columns (a stored file's actions).
INVOICE_READS = {
    "api": lambda queryset: invoice_api_list(queryset=queryset),
    "key": lambda queryset: queryset.only("id", "recipient_id"),
    "whole": lambda queryset: queryset,
}


@lru_cache(maxsize=8)
def _invoice_for_user(using: str, read: str) -> CompiledQuery:
    """`invoice_reach_q` for one invoice by its key, compiled once per process (`portal.statements`).
    Its shape never depends on the user: `capability_q` is EXISTS subqueries on the user's id, so
    only the user, the key and the retention start vary (issue 13: building and compiling the
    restriction per request was a third of the invoice API's time)."""

    def build(user, pk, retained_from):
        queryset = Invoice.objects.using(using).filter(invoice_reach_q(user, retained_from=retained_from))
        return INVOICE_READS[read](queryset).filter(pk=pk).order_by()

    return CompiledQuery.compile(
        build, using=using, prepared=True, user=STAND_IN_ID, pk=STAND_IN_ID - 1, retained_from=STAND_IN_MOMENT
    )


def invoice_for_user(*, user, pk: int, read: str = "api", using: str = DEFAULT_DB_ALIAS) -> Invoice | None:
    """The invoice `pk` if `user` may see it across orgs (the restriction's rule, `invoice_reach_q`),
    loaded as `INVOICE_READS[read]`; None otherwise."""
    if not getattr(user, "is_authenticated", False):
        return None
    found = _invoice_for_user(using, read).fetch(0, 1, user=user.pk, pk=pk, retained_from=retention_start())
    return next(iter(found), None)


def invoice_api_list(*, queryset: QuerySet) -> QuerySet[Invoice]:
    """`invoice_list` for the API's representation: of the recipient and the corrected invoice only
    the columns it shows (issue 13: two whole joined models per row – 75 columns – were a good part
    of a page's time, compiling and loading)."""
    own = [field.attname for field in Invoice._meta.concrete_fields]
    return invoice_list(queryset=queryset).only(*own, "recipient__public_id", "recipient__name", "corrects__number")


@dataclass
class InvoiceSection:
    customer_id: int
    customer_name: str
    customer_public_id: str
    lines: list
    subtotal: Decimal


def invoice_sections(*, invoice: Invoice, customer=None) -> list[InvoiceSection]:
    """The invoice's lines grouped by customer org (one section each), in print order. One query."""
    lines = invoice.lines.select_related("customer").order_by("position")
    if customer is not None:
        lines = lines.filter(customer=customer)
    sections: OrderedDict[int, InvoiceSection] = OrderedDict()
    for line in lines:
        section = sections.get(line.customer_id)
        if section is None:
            section = sections[line.customer_id] = InvoiceSection(
                line.customer_id, line.customer_name, line.customer.public_id, [], Decimal("0.00")
            )
        section.lines.append(line)
        section.subtotal += line.net_amount
    return list(sections.values())


# --- large invoices (issue 13): the stored sums per customer and the lines, a page at a time ----

LINES_PER_PAGE = 25


@dataclass
class InvoiceSectionTotal:
    customer_id: int
    customer_name: str
    customer_public_id: str
    line_count: int
    subtotal: Decimal


SECTIONS_PER_PAGE = 25


def _customer_totals(invoice: Invoice, customer=None) -> QuerySet[InvoiceCustomerTotal]:
    totals = InvoiceCustomerTotal.objects.filter(invoice=invoice)
    return totals.filter(customer=customer) if customer is not None else totals


def invoice_section_counts(*, invoice: Invoice, customer=None) -> tuple[int, int]:
    """(lines, sections) of the invoice (or of `customer`'s section), from the sums stored at issue."""
    counts = _customer_totals(invoice, customer).aggregate(lines=Sum("line_count"), sections=Count("pk"))
    return counts["lines"] or 0, counts["sections"]


def invoice_section_count(*, invoice: Invoice, customer=None) -> int:
    """The sections of `invoice_section_counts` alone: an index-only count (issue 13: the sum of
    the lines read 10,000 rows of a large partner invoice for a number the API does not show)."""
    return _customer_totals(invoice, customer).count()


def invoice_section_totals(*, invoice: Invoice, customer=None) -> QuerySet:
    """One row per customer org of the invoice (or only `customer`'s): its line count and
    subtotal, in print order, as stored when the invoice was issued (`InvoiceCustomerTotal`).
    Lazy, for a paginator (issue 13: a partner invoice may have 10,000 customers): a page is one
    indexed range read, whatever the number of lines; `section_total()` turns a row into an
    `InvoiceSectionTotal`."""
    return (
        _customer_totals(invoice, customer)
        .values("customer_id", "customer_name", "customer__public_id", "line_count", "subtotal")
        .order_by("position")
    )


def section_total(row: dict) -> InvoiceSectionTotal:
    return InvoiceSectionTotal(
        row["customer_id"],
        row["customer_name"],
        row["customer__public_id"],
        row["line_count"],
        row["subtotal"] or Decimal("0.00"),
    )


def invoice_lines(*, invoice: Invoice, customer=None) -> QuerySet[InvoiceLine]:
    """The invoice's lines in print order (or only `customer`'s), for a paginator or a stream.
    `(invoice, position)` is unique and indexed: a page costs the same on line 10 or 10,000."""
    lines = InvoiceLine.objects.filter(invoice=invoice)
    if customer is not None:
        lines = lines.filter(customer=customer)
    # the customer's identifier only (`customer_public_id`): the line stores its name, and loading
    # the whole org per line was most of a page's time (issue 13)
    return lines.annotate(customer_public_id=F("customer__public_id")).order_by("position")


def payment_method_list(*, queryset: QuerySet) -> QuerySet[PaymentMethod]:
    return queryset.order_by("-is_default", "-created_at", "-id")
