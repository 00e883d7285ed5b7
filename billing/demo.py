"""Demo data of the billing app for `seed_demo` (idempotent): subscriptions first, then invoices."""
from .invoice_demo import seed_invoices


def seed(demo: dict) -> None:
    seed_invoices(demo)
