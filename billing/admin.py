"""Admin of the billing app (ORG-9)."""
from .invoice_admin import InvoiceAdmin, PaymentMethodAdmin  # noqa: F401
