"""Models of the billing app."""
# Invoices, numbering and payment methods (BIL-5, BIL-6) live in their own module.
from .invoice_models import Invoice, InvoiceLine, InvoiceNumberCounter, PaymentMethod  # noqa: F401
