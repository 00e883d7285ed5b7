"""Time the invoice PDF (Factur-X PDF/A-3) of a partner invoice with 10,000 lines (issue 13).

A measurement, not a test: the suite only checks the page count. Run with throwaway services:

    DJANGO_SETTINGS_MODULE=portal.settings.test .venv/bin/python scripts/with_services.py \
        .venv/bin/python scripts/invoice_pdf_timing.py [LINES]

It creates a test database, issues one invoice with LINES lines (default 10,000) spread over 500
customer orgs and 20 products, and prints how long `invoice_render_pdf` takes (what the worker runs).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")


def main(lines_wanted: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from invoices.services.issuing import invoice_render_pdf
        from invoices.tests.factories import customer, issue, line, partner, product

        recipient = partner()
        customers = [customer(name=f"Kunde {number:04d}") for number in range(500)]
        items = [product("9.90", name=f"Product {number:02d}") for number in range(20)]
        rows = [
            line(recipient, customers[number % 500], items[number % 20], quantity="3", unit_price="9.90")
            for number in range(lines_wanted)
        ]
        [invoice] = issue(*rows)
        started = time.perf_counter()
        pdf = invoice_render_pdf(invoice)
        elapsed = time.perf_counter() - started
        from io import BytesIO

        from pypdf import PdfReader

        pages = len(PdfReader(BytesIO(pdf)).pages)
        print(f"invoice PDF, {lines_wanted} lines: {elapsed:.2f} s, {pages} pages, {len(pdf) / 1024:.0f} KiB")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
