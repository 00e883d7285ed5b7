"""What the Support group may do with invoices in the admin (ORG-9): look, never edit.

Invoices and payment methods (BIL-5, BIL-6) are read-only there, the IBAN shown masked.
"""

SUPPORT_PERMISSIONS = [
    "invoices.view_invoice",
    "invoices.view_invoiceline",
    "invoices.view_paymentmethod",
]
