"""Demo delegations (see portal/management/commands/seed_demo.py); running twice adds nothing.

- Demo Agentur takes care of Direkt GmbH's shop until 60 days ahead (released by direct@,
  accepted by caretaker@).
- Demo Agentur has an open request for Demo Kunde AG's website (customer@ decides).
"""

from datetime import timedelta

from django.utils import timezone

from portal.tenancy import org_context_for_organization

from .forms import end_of_day
from .models import Delegation
from .services import delegation_release, delegation_release_accept, delegation_request


def _open(project, caretaker) -> bool:
    return Delegation.objects.open().filter(project=project, caretaker=caretaker).exists()


def seed(demo: dict) -> None:
    orgs, users, projects = demo["orgs"], demo["users"], demo["projects"]
    agency, caretaker = orgs["agency"], users["caretaker"]

    if not _open(projects["direct_shop"], agency):
        released = delegation_release(
            context=org_context_for_organization(users["direct"], orgs["direct"]),
            project_numbers=[projects["direct_shop"].number],
            email=caretaker.email,
            ends_at=end_of_day(timezone.localdate() + timedelta(days=60)),  # an inclusive last day
            message="Bitte kümmert euch um Updates und Backups.",
            actor=users["direct"],
        )
        delegation_release_accept(token=released[0].token, user=caretaker, caretaker=agency)

    if not _open(projects["customer_web"], agency):
        delegation_request(
            context=org_context_for_organization(caretaker, agency),
            project_number=projects["customer_web"].number,
            message="Wir würden gern den Relaunch Ihrer Website technisch betreuen.",
            actor=caretaker,
        )
    demo["delegations"] = {
        "direct_shop": Delegation.objects.open().get(project=projects["direct_shop"], caretaker=agency),
        "customer_web": Delegation.objects.open().get(project=projects["customer_web"], caretaker=agency),
    }
