"""Issue 11, item 1: invoice PDFs live in the private storage under random names, and the data
migration moves the PDFs stored before (public MEDIA_ROOT, named after the invoice number)."""

from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from invoices.models import Invoice
from invoices.services.issuing import invoice_pdf_ensure

from .factories import customer, issue, line

pytestmark = pytest.mark.django_db
migration = import_module("billing.migrations.0003_invoice_pdf_private_storage")


def _apps_at_the_migration():
    """The models as that migration sees them (the invoices were billing's then)."""
    state = MigrationLoader(connection).project_state(("billing", "0003_invoice_pdf_private_storage"))
    return state.apps


def test_issue_11_item_1_a_new_pdf_is_private_and_randomly_named(media_roots):
    media, private = media_roots
    [invoice] = issue(line(customer(name="Direkt GmbH")))
    invoice = invoice_pdf_ensure(invoice=invoice)
    assert invoice.pdf.name.startswith(f"invoices/{invoice.year}/") and invoice.number not in invoice.pdf.name
    assert Path(invoice.pdf.path).parent == private / "invoices" / str(invoice.year)
    assert not media.exists() or not any(media.rglob("*.pdf"))
    with pytest.raises(ValueError):
        invoice.pdf.url  # no URL can ever point at it


def test_issue_11_item_1_the_migration_moves_old_pdfs_and_detaches_missing_ones(
    media_roots, django_capture_on_commit_callbacks
):
    media, private = media_roots
    apps = _apps_at_the_migration()
    [moved, missing] = issue(line(customer(name="Eins GmbH")), line(customer(name="Zwei GmbH")))
    old_name = f"invoices/{moved.year}/{moved.number}.pdf"
    (media / "invoices" / str(moved.year)).mkdir(parents=True)
    (media / old_name).write_bytes(b"%PDF-1.7 the stored invoice")
    Invoice.objects.filter(pk=moved.pk).update(pdf=old_name)
    Invoice.objects.filter(pk=missing.pk).update(pdf=f"invoices/{missing.year}/{missing.number}.pdf")

    with django_capture_on_commit_callbacks(execute=True):
        migration.to_private(apps, None)

    moved, missing = Invoice.objects.get(pk=moved.pk), Invoice.objects.get(pk=missing.pk)
    assert moved.pdf.name != old_name and moved.number not in moved.pdf.name
    assert (private / moved.pdf.name).read_bytes() == b"%PDF-1.7 the stored invoice"
    assert not (media / old_name).exists()  # the public copy is gone once the migration committed
    assert missing.pdf.name == ""  # rendered again from the snapshot when next asked for

    # Running it again changes nothing; backwards restores the old layout.
    with django_capture_on_commit_callbacks(execute=True):
        migration.to_private(apps, None)
    assert Invoice.objects.get(pk=moved.pk).pdf.name == moved.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        migration.to_public(apps, None)
    assert Invoice.objects.get(pk=moved.pk).pdf.name == old_name
    assert (media / old_name).read_bytes() == b"%PDF-1.7 the stored invoice"
