"""Bulk delegations for `manage.py seed_scale`: one agency asks for every 10th project and has
an ended delegation for every 10th project after that – rows for the overview, the API list and
the admin at scale. Only pending and ended rows, so no project-role grants are added. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from organizations.models import Membership, Organization
from organizations.roles import OrgKind, OrgRole
from organizations.services.profile import organization_create

from .models import Delegation

AGENCY = "Scale Agentur GmbH"
BATCH = 2000


def seed_scale(*, partner, customers, projects, users, stdout) -> None:
    agency = Organization.objects.filter(name=AGENCY).first() or organization_create(
        name=AGENCY, kind=OrgKind.CUSTOMER, country="DE"
    )
    if len(users) > 1 and not Membership.objects.filter(organization=agency, user=users[1]).exists():
        Membership.objects.create(organization=agency, user=users[1], role=OrgRole.OWNER)
    known = set(Delegation.objects.filter(caretaker=agency).values_list("project_id", flat=True))
    now = timezone.now()
    rows = []
    for index, project in enumerate(projects):
        if index % 10 not in (0, 5) or project.pk in known:
            continue
        pending = index % 10 == 0
        rows.append(
            Delegation(
                project=project,
                organization_id=project.organization_id,
                requested_number=(project.number or "").lower(),
                caretaker=agency,
                direction=Delegation.Direction.REQUEST,
                status=Delegation.Status.PENDING if pending else Delegation.Status.REVOKED,
                respond_by=now + timedelta(days=30),
                created_at=now,
                ended_at=None if pending else now,
            )
        )
    Delegation.objects.bulk_create(rows, batch_size=BATCH)
    stdout.write(f"{Delegation.objects.filter(caretaker=agency).count()} delegations of {AGENCY}")
