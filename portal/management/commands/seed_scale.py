"""`manage.py seed_scale`: bulk data at the scale the design must hold (SPEC "Scale").

Creates, for one partner "Scale Partner GmbH", `--customers` linked customer orgs, `--projects`
projects spread over them, `--users` users and `--grants` project-role grants, using bulk inserts
(minutes, not hours). Apps may add their own bulk data with a `scale.py` module exposing
`seed_scale(partner, customers, projects, users, stdout)`. Development and load testing only.
"""

from __future__ import annotations

import time
from importlib import import_module
from itertools import cycle

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from organizations.models import CustomerRelation, Membership, Organization, User, generate_public_id
from organizations.roles import OrgKind, OrgRole
from projects.models import PROJECT_NUMBER_OFFSET, Project, ProjectRoleGrant, ProjectUserObjectPermission
from projects.roles import ProjectRole, codenames_for_role

SCALE_APPS = ["delegations", "offers", "billing"]
BATCH = 2000


class Command(BaseCommand):
    help = "Bulk data for scale tests: one partner with many customers, projects, users and grants."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=10_000)
        parser.add_argument("--projects", type=int, default=100_000)
        parser.add_argument("--users", type=int, default=50_000)
        parser.add_argument("--grants", type=int, default=1_000_000)
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_scale is for development and load tests only. Use --force to run it anyway.")
        started = time.monotonic()
        with transaction.atomic():
            partner, customers = self._organizations(options["customers"])
            users = self._users(partner, options["users"])
            projects = self._projects(customers, options["projects"])
            self._grants(projects, users, options["grants"])
            for app in SCALE_APPS:
                try:
                    module = import_module(f"{app}.scale")
                except ModuleNotFoundError as error:
                    if error.name != f"{app}.scale":
                        raise
                    continue
                module.seed_scale(
                    partner=partner, customers=customers, projects=projects, users=users, stdout=self.stdout
                )
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
        for customer in customers:
            if customer.members_group_id is None:
                customer.members_group = by_name[f"org:{customer.public_id}"]
        Organization.objects.bulk_update(customers, ["members_group"], batch_size=BATCH)
        linked = set(
            CustomerRelation.objects.filter(partner=partner, status="active").values_list("customer_id", flat=True)
        )
        CustomerRelation.objects.bulk_create(
            [
                CustomerRelation(partner=partner, customer=c, status="active", activated_at=timezone.now())
                for c in customers
                if c.pk not in linked
            ],
            batch_size=BATCH,
        )
        self.stdout.write(f"{len(customers)} customer orgs linked to {partner.name} ({partner.public_id})")
        return partner, customers

    def _users(self, partner, count):
        existing = User.objects.filter(email__startswith="scale-user-").count()
        unusable = User().password or "!"
        User.objects.bulk_create(
            [User(email=f"scale-user-{n:06d}@scale.example", password=unusable) for n in range(existing, count)],
            batch_size=BATCH,
        )
        users = list(User.objects.filter(email__startswith="scale-user-").order_by("id")[:count])
        if users and not Membership.objects.filter(user=users[0], organization=partner).exists():
            Membership.objects.create(user=users[0], organization=partner, role=OrgRole.OWNER)
        self.stdout.write(f"{len(users)} users (scale-user-000000@scale.example owns the partner; no password)")
        return users

    def _projects(self, customers, count):
        existing = Project.objects.filter(name__startswith="Scale Project ").count()
        orgs = cycle(customers)
        for _ in range(existing):
            next(orgs)
        Project.objects.bulk_create(
            [Project(organization=next(orgs), name=f"Scale Project {n:07d}") for n in range(existing, count)],
            batch_size=BATCH,
        )
        numberless = list(Project.objects.filter(number__isnull=True))
        for project in numberless:
            project.number = f"p-{PROJECT_NUMBER_OFFSET + project.pk}"
        Project.objects.bulk_update(numberless, ["number"], batch_size=BATCH)
        projects = list(Project.objects.filter(name__startswith="Scale Project ").order_by("id")[:count])
        self.stdout.write(f"{len(projects)} projects")
        return projects

    def _grants(self, projects, users, count):
        if not projects or not users:
            return
        existing = ProjectRoleGrant.objects.filter(project__name__startswith="Scale Project ").count()
        view = Permission.objects.get(
            content_type__app_label="projects", codename=codenames_for_role(ProjectRole.VIEWER)[0]
        )
        done = existing
        while done < count:
            chunk = []
            for n in range(done, min(count, done + BATCH)):
                project = projects[n % len(projects)]
                user = users[(n // len(projects)) % len(users)]
                chunk.append(ProjectRoleGrant(project=project, user=user, role=ProjectRole.VIEWER))
            grants = ProjectRoleGrant.objects.bulk_create(chunk, ignore_conflicts=False)
            ProjectUserObjectPermission.objects.bulk_create(
                [
                    ProjectUserObjectPermission(
                        grant=g, user_id=g.user_id, permission=view, content_object_id=g.project_id
                    )
                    for g in grants
                ]
            )
            done += len(chunk)
        self.stdout.write(f"{count} project role grants (Viewer)")
