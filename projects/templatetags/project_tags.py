"""Template helpers of the projects app (pages and emails)."""

import functools

from django import template
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal.templatetags.ui import choice_label, until, url_around
from projects.models import Project
from projects.roles import ProjectAction, ProjectRole

register = template.Library()


@register.filter
def project_role_label(role: str) -> str:
    """The role's name in the active language ("viewer" → "Viewer" / "Betrachter")."""
    try:
        return str(ProjectRole(role).label)
    except ValueError:
        return role or ""


@register.filter
def project_status_label(status: str) -> str:
    """The status's name in the active language (`ui.choice_label`: not `get_status_display`,
    which translates every choice for each row)."""
    return choice_label(Project.Status, status)


@register.filter
def project_action_label(action: str) -> str:
    try:
        return str(ProjectAction(action).label)
    except ValueError:
        return action or ""


@register.simple_tag
def choose_password_url(user_id) -> str:
    """The newcomer's "choose your password" link, made when the email is rendered (PRJ-3): never
    stored in the outbox, valid as long as an invitation, once (organizations/account_setup.py)."""
    from organizations.account_setup import account_setup_url

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return ""
    return account_setup_url(user)


@register.simple_tag
def choose_password_valid_days() -> int:
    """How many days the link of `choose_password_url` works: as long as an invitation."""
    return int(settings.INVITATION_VALID_DAYS)


@register.filter
def parse_iso_datetime(value):
    """An ISO timestamp from an email's JSON context back to a datetime (for the `date` filter)."""
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(value) if value else None
    return timezone.localtime(parsed) if parsed else None


@register.simple_tag
def project_list_rows(projects, show_organization: bool = False):
    """The rows of a project list (`projects/project_list.html`): number and name linked, the org
    (across orgs), status, and how the reader reaches it. Built in Python: the same markup through
    the template language cost ~0.13 ms a row, more than the page's own queries (issue 13). The
    detail URL is reversed once (around the number) and the labels translated once per list:
    a `reverse` and two translations per row were most of what remained."""
    head, tail = url_around("project-detail", "number", "p-0")  # a project number needs no quoting
    caretaker, statuses, roles = _row_labels(get_language())
    return mark_safe(  # noqa: S308 - every value below is escaped
        "\n".join(
            _project_row(
                project, show_organization, caretaker, f"{head}{escape(project.number)}{tail}", statuses, roles
            )
            for project in projects
        )
    )


@functools.lru_cache(maxsize=32)
def _row_labels(language: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The caretaker mark and the status and role labels of the rows, escaped, per language."""
    caretaker = format_html('<span class="status status-caretaker">{}</span>', _("Caretaker"))
    statuses = {value: escape(label) for value, label in Project.Status.choices}
    return str(caretaker), statuses, {value: escape(label) for value, label in ProjectRole.choices}


def _project_row(project, show_organization: bool, caretaker: str, url: str, statuses: dict, roles: dict) -> str:
    organization = f"<td>{escape(project.organization.name)}</td>" if show_organization else ""
    role = ""
    if project.own_role:
        label = roles.get(project.own_role) or escape(project.own_role)
        if project.own_role_expires_at:
            label = "{} · {}".format(
                label, escape(_("until %(until)s") % {"until": until(project.own_role_expires_at)})
            )
        role = f'<span class="status">{label}</span>'
    status = statuses.get(project.status) or escape(project.status)
    number, name = escape(project.number), escape(project.name)
    return (
        f'<tr><td><a href="{url}">{number}</a></td><td><a href="{url}">{name}</a></td>{organization}'
        f'<td><span class="status">{status}</span></td><td>{caretaker if project.caretaker else ""}{role}</td></tr>'
    )


@register.simple_tag
def organization_options(organizations, selected: str = ""):
    """The `<option>`s of the project list's org filter (up to 100 orgs), built in Python as the rows."""
    return format_html_join(
        "\n",
        '<option value="{}"{}>{}</option>',
        (
            (organization.public_id, " selected" if organization.public_id == selected else "", organization.name)
            for organization in organizations
        ),
    )
