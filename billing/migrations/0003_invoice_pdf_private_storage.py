"""Invoice PDFs become private: they move from MEDIA_ROOT/invoices/<year>/<number>.pdf (public,
guessable) to PRIVATE_MEDIA_ROOT/invoices/<year>/<uuid4 hex>.pdf, served only by the invoice PDF
views (portal/files.py).

The old copies are deleted only after the migration committed. A PDF whose file is missing is
detached (`pdf` empty), so the existing "render if missing" path renders it again from the
invoice's snapshot instead of failing on a file that is not there.
"""

import logging
import os
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import migrations, models, transaction

import invoices.models
import portal.files

logger = logging.getLogger(__name__)


def _move(invoices, source: FileSystemStorage, target: FileSystemStorage, new_name) -> None:
    moved = []
    for invoice in invoices.exclude(pdf="").only("pk", "pdf", "year", "number").iterator():
        old_name = invoice.pdf.name
        if not source.exists(old_name):
            if target.exists(old_name):
                continue  # already moved (a re-run after a failure)
            logger.warning("Invoice %s: PDF %s is missing; it will be rendered again", invoice.number, old_name)
            invoices.filter(pk=invoice.pk).update(pdf="")
            continue
        with source.open(old_name, "rb") as handle:
            stored = target.save(new_name(invoice), handle)
        invoices.filter(pk=invoice.pk).update(pdf=stored)
        moved.append(old_name)

    def delete_old_copies():
        for name in moved:
            source.delete(name)

    transaction.on_commit(delete_old_copies)


def to_private(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    _move(
        Invoice.objects.all(),
        FileSystemStorage(location=settings.MEDIA_ROOT),
        FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT),
        lambda invoice: f"invoices/{invoice.year}/{uuid.uuid4().hex}.pdf",
    )


def to_public(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    _move(
        Invoice.objects.all(),
        FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT),
        FileSystemStorage(location=settings.MEDIA_ROOT),
        lambda invoice: os.path.join("invoices", str(invoice.year), f"{invoice.number}.pdf"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_invoices"),
    ]

    operations = [
        migrations.AlterField(
            model_name="invoice",
            name="pdf",
            field=models.FileField(
                blank=True,
                editable=False,
                storage=portal.files.private_storage,
                upload_to=invoices.models.invoice_pdf_upload_to,
                verbose_name="PDF",
            ),
        ),
        migrations.RunPython(to_private, to_public, elidable=False),
    ]
