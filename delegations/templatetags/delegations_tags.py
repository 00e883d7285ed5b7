"""Template helpers of delegations: what a side may see of the project (issue 11, item 3)."""

from django import template
from django.utils.translation import gettext_lazy as _

from portal.templatetags.ui import day, until

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


@register.filter
def ended_on(delegation) -> str:
    """The day an ended delegation ended: when it was ended or decided (declined), else (an expiry
    no job has recorded yet) the last day of its access."""
    if delegation.ended_at:
        return day(delegation.ended_at)
    if getattr(delegation, "current_status", delegation.status) == "expired":
        # access ran to its end date; an undecided request lapsed at its answer deadline
        return until(delegation.ends_at) if delegation.decided_at and delegation.ends_at else day(delegation.respond_by)
    return day(delegation.decided_at) if delegation.decided_at else ""


EMPTY_TEXTS = {
    "incoming": _("No caretaker is asking to take care of one of your projects."),
    "outgoing": _("You have no open request. To take care of a project, ask its organization for the project number."),
    "released": _("None of your projects is released to a caretaker."),
    "managed": _(
        "You take care of no project yet. Request care with the project number the customer gives you, "
        "or ask the customer to release the project to your email address."
    ),
    "ended": _("No delegation has ended yet."),
}


@register.simple_tag
def delegation_empty_text(tab: str, offered: dict) -> str:
    """What an empty tab means and what to do next (issue 16: say what to do next)."""
    if tab == "released" and offered.get("release"):
        return str(_("None of your projects is released to a caretaker. Release one with the button above."))
    return str(EMPTY_TEXTS.get(tab, ""))


@register.simple_tag(takes_context=True)
def caretaker_delegation(context, project):
    """`{% caretaker_delegation project as delegation %}` on a project page: the active delegation
    through which the reader's org takes care of it, or None (one query, only for caretakers)."""
    from delegations.selectors import delegation_caring_for

    if not getattr(project, "caretaker", False):
        return None
    return delegation_caring_for(user=context["request"].user, project=project)
