"""`manage.py seed_scale`: bulk data at the scale the design must hold (SPEC "Scale", issue 13).

Full default size: one partner "Scale Partner GmbH" with 10,000 linked customer orgs, 100,000
projects, 50,000 users and 1,000,000 project-role grants; `--scale 0.1` shrinks every default
(explicit `--customers` etc. win). Realistic shapes rather than uniform rows:

- timestamps spread over two years (projects, grants, offers, delegations, subscriptions);
- user accounts with a role each (`ACCOUNTS`, emails `scale-<name>@scale.example`): the
  partner's Owner, a partner Member assigned to 1 % of the customers, an agency Owner, a
  customer Owner, a user with 100,000 grants ("heavy") and a user with exactly one ("single");
  every customer org has an Owner; the other grants are spread ~18 per user;
- apps add their bulk data in `<app>/scale.py` (`seed_scale(partner, customers, projects, users,
  accounts, scale, stdout)`): offers, an agency with many delegations, subscriptions and a partner
  invoice with one line per customer (10,000 lines).

Rows go in by COPY on PostgreSQL (`portal.scale`). Idempotent: a second run tops up to the
targets. Development and load testing only.
"""

from __future__ import annotations

import time
from importlib import import_module
from itertools import islice

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from organizations.models import (
    CustomerRelation,
    Membership,
    Organization,
    StaffAssignment,
    User,
    generate_public_id,
)
from organizations.roles import OrgKind, OrgRole
from portal.scale import analyze, copy_insert, spread
from projects.models import PROJECT_NUMBER_OFFSET, Project, ProjectRoleGrant, ProjectUserObjectPermission
from projects.roles import ProjectRole, codenames_for_role

SCALE_APPS = ["delegations", "offers", "billing", "invoices"]
BATCH = 2000
DEFAULTS = {"customers": 10_000, "projects": 100_000, "users": 50_000, "grants": 1_000_000}
HEAVY_GRANTS = 100_000
# Fixed accounts (by position in the scale user list); the bench logs in as these.
ACCOUNTS = ["partner-owner", "agency-owner", "heavy", "single", "partner-member", "customer-owner"]
EMAIL = "scale-{name}@scale.example"


def account_email(name: str) -> str:
    return EMAIL.format(name=name)


class Command(BaseCommand):
    help = "Bulk data for scale tests: one partner with many customers, projects, users and grants."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="Factor on every default size (0.1: a tenth).")
        for name, default in DEFAULTS.items():
            parser.add_argument(f"--{name}", type=int, default=None, help=f"Default {default:,} × --scale.")
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_scale is for development and load tests only. Use --force to run it anyway.")
        scale = options["scale"]
        size = {
            name: options[name] if options[name] is not None else max(1, round(default * scale))
            for name, default in DEFAULTS.items()
        }
        started = time.monotonic()
        self.now = timezone.now()
        with transaction.atomic():
            partner, customers = self._organizations(size["customers"])
            users, accounts = self._users(partner, customers, max(size["users"], 1))
            projects = self._projects(customers, size["projects"])
            self._grants(projects, users, size["grants"], heavy=max(1, round(HEAVY_GRANTS * scale)))
            for app in SCALE_APPS:
                try:
                    module = import_module(f"{app}.scale")
                except ModuleNotFoundError as error:
                    if error.name != f"{app}.scale":
                        raise
                    continue
                app_started = time.monotonic()
                module.seed_scale(
                    partner=partner,
                    customers=customers,
                    projects=projects,
                    users=users,
                    accounts=accounts,
                    scale=scale,
                    stdout=self.stdout,
                )
                self.stdout.write(f"  ({app}: {time.monotonic() - app_started:.0f} s)")
            analyze(Organization, User, Membership, Project, ProjectRoleGrant, ProjectUserObjectPermission)
        self.stdout.write(self.style.SUCCESS(f"Scale data ready in {time.monotonic() - started:.0f} s."))

    def _organizations(self, count):
        partner = Organization.objects.filter(name="Scale Partner GmbH").first()
        if partner is None:
            from organizations.services.profile import organization_create

            partner = organization_create(name="Scale Partner GmbH", kind=OrgKind.PARTNER, country="DE")
        existing = Organization.objects.filter(name__startswith="Scale Customer ").count()
        new = [
            Organization(
                name=f"Scale Customer {n:06d}", kind=OrgKind.CUSTOMER, country="DE", public_id=generate_public_id()
            )
            for n in range(existing, count)
        ]
        Organization.objects.bulk_create(new, batch_size=BATCH)
        customers = list(Organization.objects.filter(name__startswith="Scale Customer ").order_by("id")[:count])
        groups = Group.objects.bulk_create(
            [Group(name=f"org:{c.public_id}") for c in customers if c.members_group_id is None], batch_size=BATCH
        )
        by_name = {g.name: g for g in groups}
        groupless = [c for c in customers if c.members_group_id is None]
        for customer in groupless:
            customer.members_group = by_name[f"org:{customer.public_id}"]
        Organization.objects.bulk_update(groupless, ["members_group"], batch_size=BATCH)
        linked = set(
            CustomerRelation.objects.filter(partner=partner, status="active").values_list("customer_id", flat=True)
        )
        CustomerRelation.objects.bulk_create(
            [
                CustomerRelation(
                    partner=partner, customer=c, status="active", activated_at=spread(n, now=self.now, days=1500)
                )
                for n, c in enumerate(customers)
                if c.pk not in linked
            ],
            batch_size=BATCH,
        )
        self.stdout.write(f"{len(customers)} customer orgs linked to {partner.name} ({partner.public_id})")
        return partner, customers

    def _users(self, partner, customers, count):
        """The fixed accounts first, then `scale-user-NNNNNN`; every customer gets an Owner."""
        unusable = User().password or "!"
        emails = [account_email(name) for name in ACCOUNTS][:count]
        emails += [f"scale-user-{n:06d}@scale.example" for n in range(count - len(emails))]
        known = set(User.objects.filter(email__in=emails[: len(ACCOUNTS)]).values_list("email", flat=True))
        known |= set(
            User.objects.filter(email__startswith="scale-user-").order_by().values_list("email", flat=True)[:count]
        )
        User.objects.bulk_create(
            [User(email=email, password=unusable) for email in emails if email not in known], batch_size=BATCH
        )
        by_email = {u.email: u for u in User.objects.filter(email__in=emails[: len(ACCOUNTS)])}
        fixed = [by_email[e] for e in emails[: len(ACCOUNTS)]]
        others = list(User.objects.filter(email__startswith="scale-user-").order_by("id")[: count - len(fixed)])
        users = fixed + others
        accounts = dict(zip(ACCOUNTS, fixed, strict=False))

        memberships = []
        if "partner-owner" in accounts:
            memberships.append((accounts["partner-owner"], partner, OrgRole.OWNER))
        if "partner-member" in accounts:
            memberships.append((accounts["partner-member"], partner, OrgRole.MEMBER))
        # Customer n's Owner: the "customer-owner" account for the first, then the plain users.
        owners = ([accounts["customer-owner"]] if "customer-owner" in accounts else []) + others
        memberships += [(owner, customer, OrgRole.OWNER) for owner, customer in zip(owners, customers, strict=False)]
        have = set(
            Membership.objects.filter(user__in=[u for u, _o, _r in memberships]).values_list(
                "user_id", "organization_id"
            )
        )
        missing = [(u, o, r) for u, o, r in memberships if (u.pk, o.pk) not in have]
        Membership.objects.bulk_create(
            [Membership(user=u, organization=o, role=r) for u, o, r in missing], batch_size=BATCH
        )
        UserGroup = User.groups.through
        UserGroup.objects.bulk_create(
            [UserGroup(user_id=u.pk, group_id=o.members_group_id) for u, o, _r in missing if o.members_group_id],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        if "partner-member" in accounts:
            membership = Membership.objects.get(user=accounts["partner-member"], organization=partner)
            StaffAssignment.objects.bulk_create(
                [StaffAssignment(membership=membership, customer=c) for c in customers[::100]],
                batch_size=BATCH,
                ignore_conflicts=True,
            )
        self.stdout.write(
            f"{len(users)} users, {len(missing)} new memberships (every customer has an Owner); "
            f"accounts: {', '.join(account_email(name) for name in accounts)} (no password)"
        )
        return users, accounts

    def _projects(self, customers, count):
        existing = Project.objects.filter(name__startswith="Scale Project ").count()
        copy_insert(
            Project,
            (
                Project(
                    organization_id=customers[n % len(customers)].pk,
                    name=f"Scale Project {n:07d}",
                    status=Project.Status.ARCHIVED if n % 20 == 7 else Project.Status.ACTIVE,
                    created_at=spread(n, now=self.now),
                )
                for n in range(existing, count)
            ),
        )
        # The number derives from the primary key (projects.services.project_create).
        table = connection.ops.quote_name(Project._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET number = 'p-' || CAST(id + %s AS VARCHAR(20)) WHERE number IS NULL",
                [PROJECT_NUMBER_OFFSET],
            )
        projects = list(
            Project.objects.filter(name__startswith="Scale Project ")
            .order_by("id")
            .only("id", "organization_id", "number", "name")[:count]
        )
        self.stdout.write(f"{len(projects)} projects")
        return projects

    def _grants(self, projects, users, count, *, heavy):
        if not projects or not users:
            return
        started = time.monotonic()
        grantees = users[2:] or users  # not the partner's and the agency's Owners
        wanted = islice(_grant_pairs(len(projects), grantees, count, heavy), count)
        existing = ProjectRoleGrant.objects.filter(
            user__isnull=False, project__name__startswith="Scale Project "
        ).count()
        now = self.now
        written = copy_insert(
            ProjectRoleGrant,
            (
                ProjectRoleGrant(
                    project_id=projects[p].pk,
                    user_id=user.pk,
                    role=ProjectRole.VIEWER,
                    source=ProjectRoleGrant.Source.DIRECT,
                    created_at=spread(n, now=now),
                )
                for n, (user, p) in enumerate(islice(wanted, existing, None), start=existing)
            ),
        )
        user_permission_rows_for_grants(role=ProjectRole.VIEWER)
        total = existing + written
        self.stdout.write(
            f"{total} project role grants (Viewer; {grantees[0].email} holds {min(heavy, len(projects), count)}) "
            f"in {time.monotonic() - started:.0f} s"
        )


def _grant_pairs(project_count: int, grantees: list, total: int, heavy: int):
    """(user, project index) pairs, each once: the heavy user first, then one grant of the single
    user, then ~18 per other user on projects scattered over many customers."""
    heavy_user, rest = grantees[0], grantees[2:]
    single = grantees[1] if len(grantees) > 1 else None
    if not rest:
        heavy = total
    first = min(project_count, heavy, total)
    for index in range(first):
        yield heavy_user, index
    if single is not None:
        yield single, project_count // 2
    if rest:
        for i in range(max(0, total - first - 1)):
            user, turn = i % len(rest), i // len(rest)
            if turn >= project_count:
                return
            yield rest[user], (user * 7919 + turn) % project_count


def user_permission_rows_for_grants(*, role: str) -> None:
    """The guardian rows of every user grant of `role` that has none yet (one INSERT … SELECT)."""
    permission_ids = list(
        Permission.objects.filter(content_type__app_label="projects", codename__in=codenames_for_role(role))
        .order_by("id")
        .values_list("id", flat=True)
    )
    grant_table = connection.ops.quote_name(ProjectRoleGrant._meta.db_table)
    permission_table = connection.ops.quote_name(ProjectUserObjectPermission._meta.db_table)
    with connection.cursor() as cursor:
        for permission_id in permission_ids:
            cursor.execute(
                f"INSERT INTO {permission_table} (permission_id, user_id, content_object_id, grant_id) "
                f"SELECT %s, g.user_id, g.project_id, g.id FROM {grant_table} g "
                f"WHERE g.user_id IS NOT NULL AND g.role = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {permission_table} x WHERE x.grant_id = g.id AND x.permission_id = %s)",
                [permission_id, role, permission_id],
            )
