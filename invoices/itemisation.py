"""The per-customer itemisation of an invoice as CSV (issue 13): every line with the customer org
it was billed for.

The whole invoice's CSV is built once by the worker with the PDF (`itemisation_csv_build`, from
`invoices.services.issuing.invoice_pdf_ensure`) and stored privately: a request only hands out the
stored file, or answers 202 "being prepared" until it exists (as the PDF and the XRechnung XML).
Its headers are in the invoice's language. Partner staff inside a customer org get only that
customer's few lines, streamed on request with headers in their own language.

Amounts are plain decimals with a point (`1234.50`, no thousands separator, no currency sign) and
dates ISO 8601, so spreadsheets and scripts read them the same in every locale. The page route and
the API route share this.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import translation
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


def itemisation_csv_build(invoice: Invoice) -> bytes:
    """The whole invoice's itemisation (UTF-8 with BOM), headers in the invoice's language: what
    the worker stores. Read in chunks of `CHUNK` lines."""
    writer = csv.writer(_Echo())
    with translation.override(invoice.language):
        parts = ["\ufeff" + writer.writerow(itemisation_header())]
    parts += [writer.writerow(row) for row in itemisation_rows(invoice=invoice)]
    return "".join(parts).encode("utf-8")


def itemisation_response(*, invoice: Invoice, customer) -> StreamingHttpResponse:
    """One customer's lines of the invoice (partner staff inside that customer org): streamed, a
    few lines (UTF-8 with BOM, so spreadsheet programs detect the encoding)."""
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


def itemisation_file_response(request, invoice: Invoice):
    """The stored CSV of the whole invoice (the caller checked access and that it exists), sent
    like the PDF: a private file through django-sendfile2."""
    from portal.files import private_file_response

    return private_file_response(
        request,
        invoice.itemisation,
        filename=itemisation_filename(invoice),
        content_type="text/csv; charset=utf-8",
        attachment=True,
    )
