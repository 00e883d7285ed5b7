"""What the Support group may do with billing in the admin (ORG-9): look, never edit.

The organizations app syncs these into the "Support" group. Changes go through the portal's
services (bookings, quantity changes, cancellations), never through the admin.
"""

SUPPORT_PERMISSIONS = [
    "billing.view_subscription",
    "billing.view_subscriptionterm",  # the history inline (BIL-8)
]
