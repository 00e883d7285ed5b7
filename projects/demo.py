"""Demo projects and project roles."""
from .models import Project
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


def seed(demo: dict) -> None:
    orgs, users = demo["orgs"], demo["users"]
    projects = demo.setdefault("projects", {})
    for key, org_key, name, description in PROJECTS:
        project = Project.objects.filter(organization=orgs[org_key], name=name).first()
        projects[key] = project or project_create(
            organization=orgs[org_key], name=name, description=description, created_by=users.get(org_key)
        )
    # enduser@: a Viewer on exactly one project of the partner org (PRJ-3).
    project_grant_role(project=projects["partner_shop"], user=users["enduser"], role=ProjectRole.VIEWER,
                       granted_by=users["partner"])
