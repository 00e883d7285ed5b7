"""Demo projects and project roles (idempotent: a second run creates and changes nothing).

- enduser@ (no org membership) is a Viewer on exactly one project of the partner org (PRJ-3);
- partner@ (partner Owner) sees the partner's projects and those of its customer (PRJ-4);
- guest@ (a Guest of the customer) is a Developer on the customer's CRM until a date (PRJ-2).
"""

from datetime import timedelta

from django.utils import timezone

from .models import Project, ProjectRoleGrant
from .roles import ProjectRole
from .services import project_create, project_grant_role

PROJECTS = [
    ("partner_shop", "partner", "Endkunden-Shop Müller", "End-customer project kept in the partner org (PRJ-3)."),
    ("partner_intranet", "partner", "Intranet Schmidt", "Another end-customer project of the partner."),
    ("customer_web", "customer", "Website Demo Kunde", "The customer's public website."),
    ("customer_crm", "customer", "CRM Demo Kunde", "The customer's CRM."),
    ("direct_shop", "direct", "Direkt Webshop", "Direkt GmbH's shop, cared for by Demo Agentur."),
    ("agency_site", "agency", "Agentur Website", "Demo Agentur's own website."),
]

# (project key, user key, role, days the role lasts or None, granted by user key)
GRANTS = [
    ("partner_shop", "enduser", ProjectRole.VIEWER, None, "partner"),
    ("customer_crm", "guest", ProjectRole.DEVELOPER, 90, "customer"),
]


def seed(demo: dict) -> None:
    orgs, users = demo["orgs"], demo["users"]
    projects = demo.setdefault("projects", {})
    for key, org_key, name, description in PROJECTS:
        project = Project.objects.filter(organization=orgs[org_key], name=name).first()
        projects[key] = project or project_create(
            organization=orgs[org_key], name=name, description=description, created_by=users.get(org_key)
        )
    for project_key, user_key, role, days, granted_by in GRANTS:
        if ProjectRoleGrant.objects.filter(project=projects[project_key], user=users[user_key]).exists():
            continue
        project_grant_role(
            project=projects[project_key],
            user=users[user_key],
            role=role,
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            granted_by=users[granted_by],
        )
