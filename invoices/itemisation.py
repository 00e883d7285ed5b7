"""The per-customer itemisation of an invoice as CSV (issue 13): every line with the customer org
it was billed for, streamed in chunks so a 10,000-line invoice never sits in memory as a whole.

Headers follow the active language (English or German); amounts are plain decimals with a point
(`1234.50`, no thousands separator, no currency sign) and dates ISO 8601, so spreadsheets and
scripts read them the same in every locale. The page route and the API route share this.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from .models import Invoice
from .selectors import invoice_lines

CHUNK = 2000


class _Echo:
    """csv.writer target that hands each formatted row back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def itemisation_header() -> list[str]:
    return [
        _("Invoice number"),
        _("Customer ID"),
        _("Customer"),
        _("Position"),
        _("Description"),
        _("From"),
        _("Until"),
        _("Quantity"),
        _("Unit price"),
        _("Net amount"),
        _("Currency"),
    ]


def itemisation_rows(*, invoice: Invoice, customer=None) -> Iterator[list]:
    lines = invoice_lines(invoice=invoice, customer=customer).values_list(
        "customer__public_id",
        "customer_name",
        "position",
        "description",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "net_amount",
    )
    for public_id, name, position, description, start, end, quantity, unit_price, amount in lines.iterator(
        chunk_size=CHUNK
    ):
        yield [
            invoice.number,
            public_id,
            name,
            position,
            description,
            start.isoformat(),
            end.isoformat(),
            f"{quantity:f}",
            f"{unit_price:f}",
            f"{amount:f}",
            invoice.currency,
        ]


def itemisation_filename(invoice: Invoice) -> str:
    return f"{invoice.number}-{_('itemisation')}.csv"


def itemisation_response(*, invoice: Invoice, customer=None) -> StreamingHttpResponse:
    """A streamed CSV download (UTF-8 with BOM, so spreadsheet programs detect the encoding)."""
    writer = csv.writer(_Echo())
    header = writer.writerow(itemisation_header())  # translated now, in the request's language

    def stream():
        yield "\ufeff" + header
        for row in itemisation_rows(invoice=invoice, customer=customer):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{itemisation_filename(invoice)}"'
    response["Cache-Control"] = "private, no-store"
    return response
