"""Bulk delegations for `manage.py seed_scale`: the agency "Scale Agentur GmbH" (Owner: the
`agency-owner` account) asks for every 10th project (pending), cares for every 10th after that
(active, with its External grant and guardian rows, as `delegation_accept` leaves them) and had
an ended delegation for a third tenth (revoked): 30,000 rows at full size, created over two years –
rows for the overview, the API list, the caretaker's project access and the admin. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone

from organizations.models import Membership, Organization
from organizations.roles import OrgKind, OrgRole
from organizations.services.profile import organization_create
from portal.scale import analyze, copy_insert, spread
from projects.models import ProjectGroupObjectPermission, ProjectRoleGrant
from projects.roles import ProjectRole, codenames_for_role

from .models import Delegation

AGENCY = "Scale Agentur GmbH"
PENDING, ACTIVE, REVOKED = 0, 3, 5  # project index modulo 10


def seed_scale(*, partner, customers, projects, users, accounts, scale, stdout) -> None:
    agency = Organization.objects.filter(name=AGENCY).first() or organization_create(
        name=AGENCY, kind=OrgKind.CUSTOMER, country="DE"
    )
    owner = accounts.get("agency-owner")
    if owner is not None and not Membership.objects.filter(organization=agency, user=owner).exists():
        Membership.objects.create(organization=agency, user=owner, role=OrgRole.OWNER)
        if agency.members_group_id:
            owner.groups.add(agency.members_group_id)
    known = set(Delegation.objects.filter(caretaker=agency).values_list("project_id", flat=True))
    now = timezone.now()
    status_of = {
        PENDING: Delegation.Status.PENDING,
        ACTIVE: Delegation.Status.ACTIVE,
        REVOKED: Delegation.Status.REVOKED,
    }
    rows = []
    for index, project in enumerate(projects):
        status = status_of.get(index % 10)
        if status is None or project.pk in known:
            continue
        created = spread(index, now=now, days=365)
        rows.append(
            Delegation(
                project=project,
                organization_id=project.organization_id,
                requested_number=(project.number or "").lower(),
                caretaker=agency,
                direction=Delegation.Direction.REQUEST,
                status=status,
                respond_by=now + timedelta(days=1 + index % 30) if status == Delegation.Status.PENDING else created,
                ends_at=now + timedelta(days=30 + index % 300) if status == Delegation.Status.ACTIVE else None,
                created_at=created,
                decided_at=None if status == Delegation.Status.PENDING else created + timedelta(hours=5),
                ended_at=created + timedelta(days=20) if status == Delegation.Status.REVOKED else None,
            )
        )
    copy_insert(Delegation, rows)
    active = [r for r in rows if r.status == Delegation.Status.ACTIVE]
    copy_insert(
        ProjectRoleGrant,
        (
            ProjectRoleGrant(
                project_id=r.project_id,
                organization=agency,
                role=ProjectRole.EXTERNAL,
                source=ProjectRoleGrant.Source.DELEGATION,
                expires_at=r.ends_at,
                created_at=r.decided_at,
            )
            for r in active
        ),
    )
    _group_permission_rows(agency)
    analyze(Delegation, ProjectGroupObjectPermission)
    stdout.write(f"{Delegation.objects.filter(caretaker=agency).count()} delegations of {AGENCY}")


def _group_permission_rows(agency) -> None:
    """The guardian group rows of the agency's delegation grants that have none yet."""
    permission_ids = Permission.objects.filter(
        content_type__app_label="projects", codename__in=codenames_for_role(ProjectRole.EXTERNAL)
    ).values_list("id", flat=True)
    grants = connection.ops.quote_name(ProjectRoleGrant._meta.db_table)
    rows = connection.ops.quote_name(ProjectGroupObjectPermission._meta.db_table)
    with connection.cursor() as cursor:
        for permission_id in permission_ids:
            cursor.execute(
                f"INSERT INTO {rows} (permission_id, group_id, content_object_id, grant_id) "
                f"SELECT %s, %s, g.project_id, g.id FROM {grants} g WHERE g.organization_id = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {rows} x WHERE x.grant_id = g.id AND x.permission_id = %s)",
                [permission_id, agency.members_group_id, agency.pk, permission_id],
            )
