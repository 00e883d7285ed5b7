"""BIL-8: one history row per existing subscription, from its current state (quantity, unit price,
payer) for its whole life: `starts_at` until `ends_at` (open while it renews). Set-based (one
INSERT … SELECT), so it takes seconds also for 10,000s of subscriptions; reversible (deletes the rows)."""

from django.db import migrations

FORWARD = """
INSERT INTO billing_subscriptionterm (subscription_id, valid_from, valid_until, quantity, unit_price, payer_id, created_at)
SELECT s.id, s.starts_at, s.ends_at, s.quantity, s.unit_price, s.payer_id, CURRENT_TIMESTAMP
FROM billing_subscription s
WHERE (s.ends_at IS NULL OR s.ends_at > s.starts_at)
  AND NOT EXISTS (SELECT 1 FROM billing_subscriptionterm t WHERE t.subscription_id = s.id)
"""

BACKWARD = "DELETE FROM billing_subscriptionterm"


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_subscription_terms")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
