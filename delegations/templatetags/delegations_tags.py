"""Template helpers of delegations: what a side may see of the project (issue 11, item 3)."""

from django import template

register = template.Library()


def _organization(org_context):
    return getattr(org_context, "organization", None)


@register.filter
def project_label(delegation, org_context) -> str:
    """`{{ delegation|project_label:org_context }}`: "p-10042 Webshop", or only the number where
    the org in the context may not see the name (a requester before acceptance, issue 11 item 3)."""
    if delegation.revealed_to(_organization(org_context)):
        return f"{delegation.project.number} {delegation.project.name}"
    return delegation.number


@register.filter
def project_organization_label(delegation, org_context) -> str:
    """The project's org's name, or "" where it may not be shown (see `project_label`)."""
    if delegation.revealed_to(_organization(org_context)):
        return delegation.organization.name
    return ""
