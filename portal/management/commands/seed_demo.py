"""`manage.py seed_demo`: idempotent demo data for development (PLT-6).

Each app contributes a `demo.py` with `seed(demo: dict) -> None`; they run in dependency order
and share the `demo` dict (orgs, users, projects by key). Running it again changes nothing.
"""

from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_APPS = ["organizations", "projects", "delegations", "offers", "billing", "invoices"]
DEMO_PASSWORD = "demo-portal-2026"

DEMO_ACCOUNTS = [
    ("support@demo.example", "Support staff (Django admin at /admin/)"),
    ("partner@demo.example", "Owner of the partner org Demo Partner GmbH"),
    ("customer@demo.example", "Owner of Demo Kunde AG (customer of Demo Partner GmbH)"),
    ("guest@demo.example", "Guest in Demo Kunde AG"),
    ("enduser@demo.example", "End-customer user in Demo Partner GmbH, Viewer on one project"),
    ("caretaker@demo.example", "Owner of the agency Demo Agentur"),
    ("direct@demo.example", "Owner of Direkt GmbH (no reseller)"),
]


def seed_all() -> dict:
    demo: dict = {"password": DEMO_PASSWORD}
    with transaction.atomic():
        for app in DEMO_APPS:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app}.demo":
                    raise
                continue
            module.seed(demo)
    return demo


class Command(BaseCommand):
    help = "Create or update the demo accounts and data (development only; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo is for development only (DEBUG is off). Use --force to run it anyway.")
        seed_all()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Accounts (password: {DEMO_PASSWORD}):"))
        for email, description in DEMO_ACCOUNTS:
            self.stdout.write(f"  {email:<26} {description}")
