"""The number of SQL queries of the project list (page and API), detail and members pages does
not grow from 10 to 1,000 projects and from 10 to 10,000 role grants (permission filtering is
one SQL WHERE, never a loop in Python)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organizations.models import User
from organizations.roles import OrgRole
from projects.models import PROJECT_NUMBER_OFFSET, Project, ProjectRoleGrant, ProjectUserObjectPermission
from projects.roles import ProjectRole, codenames_for_role
from projects.services import project_grant_role
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = [ProjectRole.ADMIN, ProjectRole.DEVELOPER, ProjectRole.VIEWER, ProjectRole.EXTERNAL]


def bulk_projects(organizations, count: int) -> list[Project]:
    start = Project.objects.count()
    Project.objects.bulk_create(
        Project(organization=organizations[i % len(organizations)], name=f"Bulk project {start + i:05d}")
        for i in range(count)
    )
    Project.objects.filter(number__isnull=True).update(
        number=Concat(Value("p-"), Cast(F("id") + PROJECT_NUMBER_OFFSET, CharField()))
    )
    return list(Project.objects.order_by("-id")[:count])


def bulk_grants(pairs) -> int:
    """Role grants with their guardian permission rows, as project_grant_role writes them."""
    permissions = {p.codename: p for p in Permission.objects.filter(content_type__app_label="projects")}
    grants = ProjectRoleGrant.objects.bulk_create(
        [ProjectRoleGrant(project=project, user=user, role=role) for project, user, role in pairs], batch_size=2000
    )
    ProjectUserObjectPermission.objects.bulk_create(
        (
            ProjectUserObjectPermission(
                grant=grant, user_id=grant.user_id, content_object_id=grant.project_id, permission=permissions[codename]
            )
            for grant in grants
            for codename in codenames_for_role(grant.role)
        ),
        batch_size=5000,
    )
    return len(grants)


def bulk_users(count: int) -> list[User]:
    start = User.objects.count()
    return User.objects.bulk_create(User(email=f"bulk{start + i}@example.com", password="!") for i in range(count))


@pytest.fixture
def scale_world():
    partner = factories.PartnerFactory()
    customers = [factories.OrganizationFactory() for _ in range(4)]
    for customer in customers:
        factories.link(partner, customer)
    organizations = [partner, *customers]
    people = {
        "partner_owner": factories.member(partner, OrgRole.OWNER),
        "partner_member": factories.member(partner, OrgRole.MEMBER),
        "enduser": factories.UserFactory(),
        "caretaker": factories.member(factories.OrganizationFactory(), OrgRole.ADMIN),
    }
    factories.assign(people["partner_member"], partner, customers[0])
    world = {"organizations": organizations, "partner": partner, "customer": customers[0], **people}
    grow(world, projects=10, grants=10)
    world["project"] = Project.objects.filter(organization=customers[0]).order_by("id").first()
    factories.grant(world["project"], people["enduser"], ProjectRole.ADMIN)
    caretaker_org = people["caretaker"].memberships.get().organization
    project_grant_role(project=world["project"], organization=caretaker_org, role="external", source="delegation")
    return world


def grow(world, *, projects: int, grants: int) -> None:
    new_projects = bulk_projects(world["organizations"], projects)
    users = bulk_users(max(1, grants // 10))
    pairs = [
        (project, user, role)
        for (project, user), role in zip(
            itertools.islice(((p, u) for u in users for p in new_projects), grants), itertools.cycle(ROLES)
        )
    ]
    # the end user and the caretaker hold roles on many of the new projects too
    enduser_projects = new_projects[: max(1, projects // 3)]
    pairs += [(project, world["enduser"], ProjectRole.VIEWER) for project in enduser_projects]
    bulk_grants(pairs)
    # the planner told the sizes, as production's autovacuum does: statistics left from earlier
    # tests' rolled-back rows once made the end user's list a nested loop running for minutes
    with connection.cursor() as cursor:
        for table in ("projects_project", "projects_projectrolegrant", "projects_projectuserobjectpermission"):
            cursor.execute(f"ANALYZE {table}")
    # and one project collects a large share of all grants (the members page)
    if "project" in world:
        extra = bulk_users(grants // 2)
        bulk_grants([(world["project"], user, ROLES[i % 4]) for i, user in enumerate(extra)])


def measure(client, api_client, world) -> dict[str, int]:
    number = world["project"].number
    requests = {
        "page list": lambda: client.get(reverse("project-list")),
        "page list search": lambda: client.get(
            reverse("project-list"), {"q": "bulk", "organization": world["customer"].public_id}
        ),
        "page org list": lambda: client.get(
            reverse("organization-projects", kwargs={"org": world["customer"].public_id})
        ),
        "page detail": lambda: client.get(reverse("project-detail", kwargs={"number": number})),
        "page members": lambda: client.get(reverse("project-members", kwargs={"number": number})),
        "api list": lambda: api_client.get(reverse("api-project-list")),
        "api list filtered": lambda: api_client.get(
            reverse("api-project-list"), {"search": "bulk", "organization": world["customer"].public_id}
        ),
        "api detail": lambda: api_client.get(reverse("api-project-detail", kwargs={"number": number})),
        "api grants": lambda: api_client.get(reverse("api-project-grant-list", kwargs={"project_number": number})),
    }
    counts = {}
    client.force_login(world["partner_owner"])
    api_client.force_login(world["partner_owner"])
    for request in requests.values():
        request()  # warm process-wide caches (content types, permissions): both runs compare like with like
    for person in ("partner_owner", "partner_member", "enduser", "caretaker"):
        client.force_login(world[person])
        api_client.force_login(world[person])
        for name, request in requests.items():
            with CaptureQueriesContext(connection) as queries:
                response = request()
            assert response.status_code in (200, 403, 404), (person, name, response.status_code)
            counts[f"{person}: {name}"] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_projects_and_grants(client, api_client, scale_world):
    small = measure(client, api_client, scale_world)
    assert Project.objects.count() <= 12 and ProjectRoleGrant.objects.count() <= 40

    grow(scale_world, projects=1000, grants=10000)
    assert Project.objects.count() > 1000
    assert ProjectRoleGrant.objects.count() > 15000
    large = measure(client, api_client, scale_world)

    # never more; a list whose reach is over the count's cap may read less (the count stops there)
    assert {name: count for name, count in large.items() if count > small[name]} == {}
    assert large.keys() == small.keys()
    # and the numbers are small in absolute terms
    assert max(small.values()) <= 15, small
