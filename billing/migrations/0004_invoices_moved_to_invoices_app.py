"""Invoices, their numbering and payment methods moved to the `invoices` app (state only).

The tables stay where they are, under their old names (`db_table` on the invoices models), so no
data moves: billing forgets the four models here, `invoices/migrations/0001_initial` declares them
again. No model outside them has a foreign key to them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_invoice_pdf_private_storage"),
        ("invoices", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="invoice",
                    name="recipient",
                ),
                migrations.RemoveField(
                    model_name="invoiceline",
                    name="invoice",
                ),
                migrations.RemoveField(
                    model_name="invoiceline",
                    name="customer",
                ),
                migrations.RemoveField(
                    model_name="invoiceline",
                    name="product",
                ),
                migrations.DeleteModel(
                    name="InvoiceNumberCounter",
                ),
                migrations.RemoveField(
                    model_name="paymentmethod",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="paymentmethod",
                    name="organization",
                ),
                migrations.DeleteModel(
                    name="Invoice",
                ),
                migrations.DeleteModel(
                    name="InvoiceLine",
                ),
                migrations.DeleteModel(
                    name="PaymentMethod",
                ),
            ],
            database_operations=[],
        ),
    ]
