"""Invoices (BIL-5), their numbering and payment methods (BIL-6). Money is Decimal (BIL-7).

An invoice is issued once per recipient and period (`invoice_unique_per_recipient_and_period`)
and never changes afterwards: everything printed on it – recipient address, issuer, VAT
treatment, line descriptions, prices – is a snapshot taken when it is issued. The only later
write is attaching the rendered PDF once (`pdf` goes from empty to a file, never back) and
recording when the email was queued. `Invoice.save()`, `delete()` and the queryset's
`update()`/`delete()` refuse anything else, and the admin shows invoices read-only.

Writes go through `invoices.services.issuing` (issuing, PDF, email) and
`invoices.services.payment_methods`.

The tables keep the names they had when these models were part of billing (`db_table`): the
move to this app changed only Django's state (invoices/migrations/0001), no data moved.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from portal.errors import Conflict
from portal.files import private_storage, random_name

# Fields an issued invoice may still receive, each exactly once (from empty to a value): the PDF,
# the email, and its payment status (overdue, paid), which is bookkeeping, not document content.
INVOICE_LATE_FIELDS = frozenset(
    {"pdf", "xrechnung", "itemisation", "emailed_at", "overdue_since", "paid_at", "paid_by"}
)


def invoice_pdf_upload_to(invoice: Invoice, filename: str) -> str:
    """`invoices/<year>/<uuid4 hex>.pdf`: a random name, never the (gapless, guessable) number."""
    return random_name(f"invoices/{invoice.year}", "invoice.pdf")


def invoice_xrechnung_upload_to(invoice: Invoice, filename: str) -> str:
    """`invoices/<year>/<uuid4 hex>.xml`: next to the PDF, a random name as well."""
    return random_name(f"invoices/{invoice.year}", "xrechnung.xml")


def invoice_itemisation_upload_to(invoice: Invoice, filename: str) -> str:
    """`invoices/<year>/<uuid4 hex>.csv`: next to the PDF, a random name as well."""
    return random_name(f"invoices/{invoice.year}", "itemisation.csv")


class ImmutableInvoiceError(Conflict):
    """An issued invoice, or one of its lines, was about to change."""

    default_code = "invoice_immutable"


class InvoiceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if not set(kwargs) <= INVOICE_LATE_FIELDS:
            raise ImmutableInvoiceError(_("Issued invoices never change."))
        return super().update(**kwargs)

    def delete(self):
        raise ImmutableInvoiceError(_("Issued invoices are kept and never deleted."))


class InvoiceNumberCounter(models.Model):
    """The last number issued per number series and year. Locked (SELECT … FOR UPDATE) by the
    issuing transaction, so concurrent runs wait for each other and numbers stay gapless: a
    rolled-back run also rolls back its counter increment. Invoices and credit notes are two
    series (`Invoice.Kind`), each with its own row per year."""

    series = models.CharField(_("series"), max_length=16, default="invoice")
    year = models.PositiveIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        db_table = "billing_invoicenumbercounter"
        verbose_name = _("invoice number counter")
        verbose_name_plural = _("invoice number counters")
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="invoice_counter_unique_series_year")]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last_number}"


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        # A cancelling invoice correction (Stornorechnung): negative amounts, `corrects` the invoice.
        CREDIT_NOTE = "credit_note", _("Credit note")

    class VatTreatment(models.TextChoices):
        DOMESTIC = "domestic", _("German VAT")
        REVERSE_CHARGE = "reverse_charge", _("Reverse charge (EU)")
        OUTSIDE_EU = "outside_eu", _("Outside the EU, no VAT")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.INVOICE, editable=False)
    # A credit note's corrected invoice; PROTECT: neither is ever deleted anyway.
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("corrects invoice"),
        editable=False,
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True, editable=False)
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    year = models.PositiveIntegerField(_("year"), editable=False)
    sequence = models.PositiveIntegerField(_("sequence"), editable=False)
    recipient = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="invoices", verbose_name=_("recipient")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    issued_at = models.DateTimeField(_("issued at"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    language = models.CharField(_("language"), max_length=8, default="en")

    # The recipient as printed (billing address override where it is the invoice recipient).
    recipient_name = models.CharField(_("recipient name"), max_length=200)
    recipient_street = models.CharField(_("street and number"), max_length=200, blank=True)
    recipient_postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    recipient_city = models.CharField(_("city"), max_length=100, blank=True)
    recipient_country = CountryField(_("country"), blank=True)
    recipient_vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)
    recipient_email = models.EmailField(_("sent to"), blank=True)
    # BT-10 buyer reference (Leitweg-ID for public-sector recipients), from the org's billing settings.
    recipient_buyer_reference = models.CharField(_("buyer reference"), max_length=100, blank=True)

    # The issuer as printed (settings.BILLING_ISSUER at the time of issuing).
    issuer = models.JSONField(_("issuer"), default=dict)
    payment_method_text = models.CharField(_("payment"), max_length=300, blank=True)

    vat_treatment = models.CharField(_("VAT treatment"), max_length=16, choices=VatTreatment.choices)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    vat_note = models.CharField(_("VAT note"), max_length=300, blank=True)
    net_total = models.DecimalField(_("net"), max_digits=14, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2)
    gross_total = models.DecimalField(_("gross"), max_digits=14, decimal_places=2)

    # Private (PRIVATE_MEDIA_ROOT, no URL): served only by the invoice PDF views (portal/files.py).
    pdf = models.FileField(
        _("PDF"), upload_to=invoice_pdf_upload_to, storage=private_storage, blank=True, editable=False
    )
    # Issue 13: the XRechnung XML, built once by the worker with the PDF; private like the PDF.
    xrechnung = models.FileField(
        _("XRechnung XML"),
        upload_to=invoice_xrechnung_upload_to,
        storage=private_storage,
        blank=True,
        editable=False,
    )
    # Issue 13: the per-customer itemisation as CSV, built once by the worker with the PDF (a
    # 10,000-line invoice is never itemised inside a request); private like the PDF.
    itemisation = models.FileField(
        _("itemisation CSV"),
        upload_to=invoice_itemisation_upload_to,
        storage=private_storage,
        blank=True,
        editable=False,
    )
    emailed_at = models.DateTimeField(_("email queued at"), null=True, blank=True, editable=False)
    # Dunning (invoices.services.dunning): set once by conditional UPDATEs, never cleared.
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True, editable=False)
    paid_by = models.ForeignKey(
        "organizations.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked paid by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        db_table = "billing_invoice"
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-period_start", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "period_start"],
                condition=models.Q(kind="invoice"),
                name="invoice_unique_per_recipient_and_period",
            ),
            models.UniqueConstraint(fields=["kind", "year", "sequence"], name="invoice_unique_sequence_per_year"),
            models.CheckConstraint(
                condition=(models.Q(kind="invoice") & models.Q(corrects__isnull=True))
                | (models.Q(kind="credit_note") & models.Q(corrects__isnull=False)),
                name="invoice_credit_note_corrects_an_invoice",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "-period_start"]), models.Index(fields=["period_start"])]
        permissions = [
            ("issue_credit_note", _("Can issue credit notes")),
            ("mark_invoice_paid", _("Can mark invoices paid")),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= INVOICE_LATE_FIELDS:
                raise ImmutableInvoiceError(_("Issued invoices never change."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError(_("Issued invoices are kept and never deleted."))

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def pdf_filename(self) -> str:
        return f"{'credit-note' if self.is_credit_note else 'invoice'}-{self.number}.pdf"

    @property
    def xrechnung_filename(self) -> str:
        return f"xrechnung-{self.number}.xml"


class InvoiceReminder(models.Model):
    """One payment reminder (dunning level) of an overdue invoice: at most one per invoice and level
    (`invoice_reminder_once_per_level`); the row and the email's outbox row commit together."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders", verbose_name=_("invoice"))
    level = models.PositiveSmallIntegerField(_("level"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment reminder")
        verbose_name_plural = _("payment reminders")
        ordering = ["invoice", "level"]
        constraints = [models.UniqueConstraint(fields=["invoice", "level"], name="invoice_reminder_once_per_level")]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.level}"


class WriteOnce(models.Model):
    """A row of an issued invoice (its lines, its sums per customer): written once when the
    invoice is issued, never changed or deleted afterwards, neither one by one nor in bulk
    (`WriteOnceQuerySet`)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableInvoiceError(_("Issued invoices never change."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError(_("Issued invoices are kept and never deleted."))


class WriteOnceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableInvoiceError(_("Issued invoices never change."))

    def delete(self):
        raise ImmutableInvoiceError(_("Issued invoices are kept and never deleted."))


class InvoiceLine(WriteOnce):
    """One line: a product for one customer org over a period. Partner invoices group their lines
    by `customer` (one section per customer org)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name=_("invoice"))
    position = models.PositiveIntegerField(_("position"))
    customer = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    customer_name = models.CharField(_("customer"), max_length=200)
    product = models.ForeignKey(
        "offers.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    # Four places: a unit price may be below a cent; the line total is rounded half-up (BIL-7).
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    net_amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)

    objects = WriteOnceQuerySet.as_manager()

    class Meta:
        db_table = "billing_invoiceline"
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_unique_position")]
        indexes = [models.Index(fields=["customer", "invoice"])]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.position}: {self.description}"


class InvoiceCustomerTotal(WriteOnce):
    """The sum of an invoice's lines per customer org (one section of a partner invoice), stored
    when the invoice is issued (issue 13): an issued invoice never changes, so the sums never do,
    and the detail page and API read a page of them instead of grouping 10,000 lines per request.
    Written only by the issuing services (`invoices_issue`, `credit_note_issue`)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="customer_totals", verbose_name=_("invoice")
    )
    customer = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    customer_name = models.CharField(_("customer"), max_length=200)
    # The position of the customer's first line: sections print in this order.
    position = models.PositiveIntegerField(_("position"))
    line_count = models.PositiveIntegerField(_("lines"))
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2)

    objects = WriteOnceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice sum per customer")
        verbose_name_plural = _("invoice sums per customer")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_customer_total_unique_position"),
            models.UniqueConstraint(fields=["invoice", "customer"], name="invoice_customer_total_unique_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.customer_name}: {self.subtotal}"


def customer_totals_build(lines) -> list[InvoiceCustomerTotal]:
    """The per-customer sums of `lines` (InvoiceLine objects of one invoice, positions set), in
    print order (unsaved; `invoice` set from the first line)."""
    totals: dict[int, InvoiceCustomerTotal] = {}
    for line in sorted(lines, key=lambda line: line.position):
        total = totals.get(line.customer_id)
        if total is None:
            total = totals[line.customer_id] = InvoiceCustomerTotal(
                invoice=line.invoice,
                customer_id=line.customer_id,
                customer_name=line.customer_name,
                position=line.position,
                line_count=0,
                subtotal=Decimal("0.00"),
            )
        total.line_count += 1
        total.subtotal += line.net_amount
    return list(totals.values())


class PaymentMethod(models.Model):
    """How an org pays its invoices (BIL-6): SEPA direct debit or bank transfer. No card numbers.

    The IBAN is stored (a direct debit needs it) but shown only masked (`masked_iban`).
    One default per org (`payment_method_one_default_per_org`); removing keeps the row
    (`removed_at`) because issued invoices refer to it by text.
    """

    class Kind(models.TextChoices):
        SEPA_DIRECT_DEBIT = "sepa_direct_debit", _("SEPA direct debit")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="payment_methods",
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    account_holder = models.CharField(_("account holder"), max_length=200, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    mandate_reference = models.CharField(_("mandate reference"), max_length=35, blank=True, unique=True, null=True)
    mandate_signed_on = models.DateField(_("mandate signed on"), null=True, blank=True)
    is_default = models.BooleanField(pgettext_lazy("payment method", "default"), default=False)
    created_by = models.ForeignKey(
        "organizations.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        db_table = "billing_paymentmethod"
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True, removed_at__isnull=True),
                name="payment_method_one_default_per_org",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="sepa_direct_debit")
                | (~models.Q(iban="") & models.Q(mandate_reference__isnull=False)),
                name="payment_method_sepa_has_iban_and_mandate",
            ),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def masked_iban(self) -> str:
        """`DE89 **** **** **** **30 00`-style: country and check digits, then only the last four."""
        if not self.iban:
            return ""
        return mask_iban(self.iban)

    @property
    def display(self) -> str:
        if self.kind == self.Kind.SEPA_DIRECT_DEBIT:
            return f"{self.get_kind_display()} {self.masked_iban}"
        return str(self.get_kind_display())


def mask_iban(iban: str) -> str:
    compact = "".join(iban.split()).upper()
    if len(compact) <= 8:
        return "*" * len(compact)
    masked = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))
