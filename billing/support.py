"""What the Support group may do with billing in the admin (ORG-9): look, never edit.

The organizations app syncs these into the "Support" group. Changes go through the portal's
services (bookings, quantity changes, cancellations), never through the admin.
"""

SUPPORT_PERMISSIONS = [
    "billing.view_subscription",
    # invoices and payment methods (BIL-5, BIL-6): read-only as well, the IBAN shown masked
    "billing.view_invoice",
    "billing.view_invoiceline",
    "billing.view_paymentmethod",
]
