"""The invoice models, moved here from billing (state only): the tables already exist.

They were created by billing/migrations/0002_invoices (and 0003) and keep their names
(`db_table`), so this migration creates nothing in the database; billing's 0004 drops the models
from billing's state.
"""

import django.core.validators
import django.db.models.deletion
import django_countries.fields
import invoices.models
import portal.files
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("billing", "0003_invoice_pdf_private_storage"),
        ("offers", "0003_offer_webhook_attempt"),
        ("organizations", "0003_logo_random_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="InvoiceNumberCounter",
                    fields=[
                        ("year", models.PositiveIntegerField(primary_key=True, serialize=False, verbose_name="year")),
                        ("last_number", models.PositiveIntegerField(default=0, verbose_name="last number")),
                    ],
                    options={
                        "verbose_name": "invoice number counter",
                        "verbose_name_plural": "invoice number counters",
                        "db_table": "billing_invoicenumbercounter",
                    },
                ),
                migrations.CreateModel(
                    name="Invoice",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("number", models.CharField(editable=False, max_length=20, unique=True, verbose_name="number")),
                        ("year", models.PositiveIntegerField(editable=False, verbose_name="year")),
                        ("sequence", models.PositiveIntegerField(editable=False, verbose_name="sequence")),
                        ("period_start", models.DateField(verbose_name="period start")),
                        ("period_end", models.DateField(verbose_name="period end")),
                        ("issued_at", models.DateTimeField(verbose_name="issued at")),
                        ("currency", models.CharField(default="EUR", max_length=3, verbose_name="currency")),
                        ("language", models.CharField(default="en", max_length=8, verbose_name="language")),
                        ("recipient_name", models.CharField(max_length=200, verbose_name="recipient name")),
                        (
                            "recipient_street",
                            models.CharField(blank=True, max_length=200, verbose_name="street and number"),
                        ),
                        ("recipient_postcode", models.CharField(blank=True, max_length=20, verbose_name="postcode")),
                        ("recipient_city", models.CharField(blank=True, max_length=100, verbose_name="city")),
                        (
                            "recipient_country",
                            django_countries.fields.CountryField(blank=True, max_length=2, verbose_name="country"),
                        ),
                        ("recipient_vat_id", models.CharField(blank=True, max_length=20, verbose_name="VAT ID")),
                        ("recipient_email", models.EmailField(blank=True, max_length=254, verbose_name="sent to")),
                        ("issuer", models.JSONField(default=dict, verbose_name="issuer")),
                        ("payment_method_text", models.CharField(blank=True, max_length=300, verbose_name="payment")),
                        (
                            "vat_treatment",
                            models.CharField(
                                choices=[
                                    ("domestic", "German VAT"),
                                    ("reverse_charge", "Reverse charge (EU)"),
                                    ("outside_eu", "Outside the EU, no VAT"),
                                ],
                                max_length=16,
                                verbose_name="VAT treatment",
                            ),
                        ),
                        ("vat_rate", models.DecimalField(decimal_places=2, max_digits=5, verbose_name="VAT rate (%)")),
                        ("vat_note", models.CharField(blank=True, max_length=300, verbose_name="VAT note")),
                        ("net_total", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="net")),
                        ("vat_amount", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="VAT")),
                        ("gross_total", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="gross")),
                        (
                            "pdf",
                            models.FileField(
                                blank=True,
                                editable=False,
                                storage=portal.files.private_storage,
                                upload_to=invoices.models.invoice_pdf_upload_to,
                                verbose_name="PDF",
                            ),
                        ),
                        (
                            "emailed_at",
                            models.DateTimeField(blank=True, editable=False, null=True, verbose_name="email queued at"),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="invoices",
                                to="organizations.organization",
                                verbose_name="recipient",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "invoice",
                        "verbose_name_plural": "invoices",
                        "db_table": "billing_invoice",
                        "ordering": ["-period_start", "-number"],
                    },
                ),
                migrations.CreateModel(
                    name="InvoiceLine",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("position", models.PositiveIntegerField(verbose_name="position")),
                        ("customer_name", models.CharField(max_length=200, verbose_name="customer")),
                        ("description", models.CharField(max_length=300, verbose_name="description")),
                        (
                            "quantity",
                            models.DecimalField(
                                decimal_places=2,
                                max_digits=12,
                                validators=[django.core.validators.MinValueValidator(0)],
                                verbose_name="quantity",
                            ),
                        ),
                        ("unit_price", models.DecimalField(decimal_places=4, max_digits=14, verbose_name="unit price")),
                        ("period_start", models.DateField(verbose_name="from")),
                        ("period_end", models.DateField(verbose_name="until")),
                        ("net_amount", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="amount")),
                        (
                            "customer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="organizations.organization",
                                verbose_name="customer",
                            ),
                        ),
                        (
                            "invoice",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="lines",
                                to="invoices.invoice",
                                verbose_name="invoice",
                            ),
                        ),
                        (
                            "product",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="offers.product",
                                verbose_name="product",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "invoice line",
                        "verbose_name_plural": "invoice lines",
                        "db_table": "billing_invoiceline",
                        "ordering": ["invoice", "position"],
                    },
                ),
                migrations.CreateModel(
                    name="PaymentMethod",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("sepa_direct_debit", "SEPA direct debit"),
                                    ("bank_transfer", "Bank transfer"),
                                ],
                                max_length=32,
                                verbose_name="kind",
                            ),
                        ),
                        ("account_holder", models.CharField(blank=True, max_length=200, verbose_name="account holder")),
                        ("iban", models.CharField(blank=True, max_length=34, verbose_name="IBAN")),
                        ("bic", models.CharField(blank=True, max_length=11, verbose_name="BIC")),
                        (
                            "mandate_reference",
                            models.CharField(
                                blank=True, max_length=35, null=True, unique=True, verbose_name="mandate reference"
                            ),
                        ),
                        (
                            "mandate_signed_on",
                            models.DateField(blank=True, null=True, verbose_name="mandate signed on"),
                        ),
                        ("is_default", models.BooleanField(default=False, verbose_name="default")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("removed_at", models.DateTimeField(blank=True, null=True, verbose_name="removed at")),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="created by",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="payment_methods",
                                to="organizations.organization",
                                verbose_name="organization",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "payment method",
                        "verbose_name_plural": "payment methods",
                        "db_table": "billing_paymentmethod",
                        "ordering": ["-is_default", "-created_at", "-id"],
                    },
                ),
                migrations.AddIndex(
                    model_name="invoice",
                    index=models.Index(fields=["recipient", "-period_start"], name="billing_inv_recipie_07728f_idx"),
                ),
                migrations.AddIndex(
                    model_name="invoice",
                    index=models.Index(fields=["period_start"], name="billing_inv_period__78ad99_idx"),
                ),
                migrations.AddConstraint(
                    model_name="invoice",
                    constraint=models.UniqueConstraint(
                        fields=("recipient", "period_start"), name="invoice_unique_per_recipient_and_period"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="invoice",
                    constraint=models.UniqueConstraint(
                        fields=("year", "sequence"), name="invoice_unique_sequence_per_year"
                    ),
                ),
                migrations.AddIndex(
                    model_name="invoiceline",
                    index=models.Index(fields=["customer", "invoice"], name="billing_inv_custome_764b3e_idx"),
                ),
                migrations.AddConstraint(
                    model_name="invoiceline",
                    constraint=models.UniqueConstraint(
                        fields=("invoice", "position"), name="invoice_line_unique_position"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="paymentmethod",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("is_default", True), ("removed_at__isnull", True)),
                        fields=("organization",),
                        name="payment_method_one_default_per_org",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="paymentmethod",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "sepa_direct_debit"), _negated=True),
                            models.Q(models.Q(("iban", ""), _negated=True), ("mandate_reference__isnull", False)),
                            _connector="OR",
                        ),
                        name="payment_method_sepa_has_iban_and_mandate",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
