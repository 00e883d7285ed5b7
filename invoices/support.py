"""What the Support group may do with invoices in the admin (ORG-9): look, never edit; issue credit
notes and mark invoices paid through the services (issue 15).

Invoices and payment methods (BIL-5, BIL-6) are read-only there, the IBAN shown masked.
"""

SUPPORT_PERMISSIONS = [
    "invoices.view_invoice",
    "invoices.view_invoiceline",
    "invoices.view_paymentmethod",
    # issue 15: correct an invoice with a credit note, record a payment (ends dunning)
    "invoices.issue_credit_note",
    "invoices.mark_invoice_paid",
]
