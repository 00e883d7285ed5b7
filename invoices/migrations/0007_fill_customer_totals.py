"""Issue 13: the per-customer sums of every invoice issued before they were stored at issue
(the issuing services store them from now on). One grouped read of the lines, inserted in
batches; invoices that have their sums already are left alone, so it is safe to run again."""

from django.db import migrations
from django.db.models import Count, Exists, Min, OuterRef, Sum

BATCH = 5000


def fill(apps, schema_editor):
    InvoiceLine = apps.get_model("invoices", "InvoiceLine")
    InvoiceCustomerTotal = apps.get_model("invoices", "InvoiceCustomerTotal")
    has_totals = InvoiceCustomerTotal.objects.filter(invoice=OuterRef("invoice_id"))
    rows = (
        InvoiceLine.objects.filter(~Exists(has_totals))
        .values("invoice_id", "customer_id")
        .annotate(
            name=Min("customer_name"),
            first=Min("position"),
            line_count=Count("id"),
            subtotal=Sum("net_amount"),
        )
        .order_by("invoice_id", "first")
    )
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append(
            InvoiceCustomerTotal(
                invoice_id=row["invoice_id"],
                customer_id=row["customer_id"],
                customer_name=row["name"],
                position=row["first"],
                line_count=row["line_count"],
                subtotal=row["subtotal"],
            )
        )
        if len(batch) == BATCH:
            InvoiceCustomerTotal.objects.bulk_create(batch)
            batch = []
    InvoiceCustomerTotal.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0006_customer_totals_and_itemisation_file"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
