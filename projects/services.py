"""Writes of projects and project role grants (PRJ-1, PRJ-2, PRJ-3).

Callers check permissions first (`projects.selectors.project_require` for project actions,
`OrgContext.require("projects.create")` for creation); these functions guarantee consistency:
validated input, the guardian permission rows derived from the role table, an audit event for
every change made by a person, and emails queued in the outbox inside the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.models import Membership, Organization
from portal.audit import audit_record
from portal.emails import email_enqueue
from portal.errors import Conflict, InvalidInput
from portal.notifications import notification_create_many, notification_kind
from portal.state_machine import transition
from portal.tenancy import active_reseller_relations

from .models import (
    PROJECT_NUMBER_OFFSET,
    Project,
    ProjectGroupObjectPermission,
    ProjectRoleGrant,
    ProjectUserObjectPermission,
)
from .roles import ProjectRole, codenames_for_role

NAME_MAX_LENGTH = Project._meta.get_field("name").max_length

notification_kind(
    "projects.access_granted",
    gettext_lazy("You were given access to project {number} “{name}”."),
)


def project_number_for(pk: int) -> str:
    return f"p-{PROJECT_NUMBER_OFFSET + pk}"


def _acting_organization_on_project(actor, project: Project) -> Organization | None:
    """The org `actor` acts from on `project`: its own org, the reseller partner or a caretaker org.

    Looked up from the actor, as project services are called without an `OrgContext`; where a
    context exists, `OrgContext.acting_organization` says the same."""
    if not getattr(actor, "is_authenticated", False):
        return None
    if Membership.objects.filter(user=actor, organization_id=project.organization_id).exists():
        return project.organization
    relation = (
        active_reseller_relations(project.organization_id)
        .filter(partner__memberships__user=actor)
        .select_related("partner")
        .first()
    )
    if relation is not None:
        return relation.partner
    caretaker = (
        ProjectRoleGrant.objects.filter(project=project, organization__memberships__user=actor)
        .select_related("organization")
        .first()
    )
    return caretaker.organization if caretaker else None


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Please enter a project name."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(_("The name may have at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}, field="name")
    return name


@transaction.atomic
def project_create(*, organization, name: str, description: str = "", created_by=None) -> Project:
    """Create a project with the next unique number `p-<digits>` (PRJ-1).

    Callers have checked the "projects.create" capability in `organization`. The number derives
    from the primary key inside the same transaction, so concurrent creations never share one.
    """
    name = _clean_name(name)
    if organization.status != Organization.Status.ACTIVE:
        raise Conflict(_("Projects cannot be created in an archived organization."), code="organization_archived")
    project = Project.objects.create(
        organization=organization, name=name, description=(description or "").strip(), created_by=created_by
    )
    project.number = project_number_for(project.pk)
    Project.objects.filter(pk=project.pk).update(number=project.number)
    if created_by is not None:
        audit_record(
            action="project.created",
            target=project,
            actor=created_by,
            acting_organization=_acting_organization_on_project(created_by, project),
            after={"number": project.number, "name": name},
        )
    return project


@transaction.atomic
def project_update(*, project: Project, actor, name: str, description: str = "") -> Project:
    """Change name and description. Callers have checked the "change" action."""
    before = {"name": project.name, "description": project.description}
    project.name = _clean_name(name)
    project.description = (description or "").strip()
    project.save(update_fields=["name", "description"])
    audit_record(
        action="project.changed",
        target=project,
        actor=actor,
        acting_organization=_acting_organization_on_project(actor, project),
        before=before,
        after={"name": project.name, "description": project.description},
    )
    return project


@transaction.atomic
def project_archive(*, project: Project, actor) -> Project:
    """Archive (read-only from now on). Callers have checked the "delete" action."""
    transition(project, Project.Status.ARCHIVED)
    audit_record(
        action="project.archived",
        target=project,
        actor=actor,
        acting_organization=_acting_organization_on_project(actor, project),
        before={"status": Project.Status.ACTIVE},
        after={"status": Project.Status.ARCHIVED},
    )
    return project


@transaction.atomic
def project_restore(*, project: Project, actor) -> Project:
    """Make an archived project active again. Callers have checked the "delete" action."""
    transition(project, Project.Status.ACTIVE)
    audit_record(
        action="project.restored",
        target=project,
        actor=actor,
        acting_organization=_acting_organization_on_project(actor, project),
        before={"status": Project.Status.ARCHIVED},
        after={"status": Project.Status.ACTIVE},
    )
    return project


@transaction.atomic
def project_delete(*, project: Project, actor) -> None:
    """Delete a project with its role grants. Callers have checked the "delete" action.

    Records that must be kept (e.g. subscriptions ordered for the project) protect it: Conflict,
    and the project can be archived instead.
    """
    audit_record(
        action="project.deleted",
        target=project,
        actor=actor,
        acting_organization=_acting_organization_on_project(actor, project),
        before={"number": project.number, "name": project.name, "status": project.status},
    )
    try:
        project.delete()
    except (ProtectedError, RestrictedError) as error:
        raise Conflict(
            _("This project has records that must be kept (for example ordered services). Archive it instead."),
            code="project_protected",
        ) from error


# --- role grants -------------------------------------------------------------------------------


def _permissions_for_role(role: str) -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="projects", codename__in=codenames_for_role(role)))


def _write_permission_rows(grant: ProjectRoleGrant) -> None:
    """(Re)derive the guardian permission rows of a grant from the role table."""
    grant.user_permissions.all().delete()
    grant.group_permissions.all().delete()
    permissions = _permissions_for_role(grant.role)
    if grant.user_id:
        ProjectUserObjectPermission.objects.bulk_create(
            ProjectUserObjectPermission(grant=grant, user_id=grant.user_id, permission=p, content_object=grant.project)
            for p in permissions
        )
    else:
        group = grant.organization.members_group
        if group is None:
            raise Conflict(_("This organization cannot hold project roles."), code="no_members_group")
        ProjectGroupObjectPermission.objects.bulk_create(
            ProjectGroupObjectPermission(grant=grant, group=group, permission=p, content_object=grant.project)
            for p in permissions
        )


@transaction.atomic
def project_grant_role(
    *,
    project: Project,
    role: str,
    user=None,
    organization=None,
    expires_at=None,
    granted_by=None,
    source: str = ProjectRoleGrant.Source.DIRECT,
) -> ProjectRoleGrant:
    """Give a user (or every member of an org) a role on a project, replacing an earlier one.

    The low-level writer that other apps build on (delegations: `organization=…,
    role="external", source="delegation"`). It checks no permissions and writes no audit event;
    the caller does both. The grant is honoured until `expires_at` (exclusive), if given.
    """
    if role not in ProjectRole.values:
        raise InvalidInput(_("Unknown project role."), field="role")
    if (user is None) == (organization is None):
        raise InvalidInput(_("A role is granted to either a person or an organization."))
    lookup = {"user": user} if user is not None else {"organization": organization}
    grant, _created = ProjectRoleGrant.objects.update_or_create(
        project=project,
        **lookup,
        defaults={"role": role, "expires_at": expires_at, "granted_by": granted_by, "source": source},
    )
    _write_permission_rows(grant)
    return grant


@transaction.atomic
def project_revoke_grant(*, grant: ProjectRoleGrant) -> None:
    """Remove a grant and its guardian permission rows at once (low level, no audit)."""
    grant.delete()  # cascades to the guardian permission rows


def _clean_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(_("The end date must lie in the future."), field="expires_at")
    return expires_at


def _clean_role(role: str) -> str:
    if role not in ProjectRole.values:
        raise InvalidInput(_("Unknown project role."), field="role")
    return role


def _user_for_email(email: str, language: str):
    """The account for `email`, created without a usable password if there is none (PRJ-3).

    Returns (user, needs_password). Concurrent calls for the same new address end with one account.
    """
    User = get_user_model()
    email = User.objects.normalize_email(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email, None, language=language)  # unusable password
        except IntegrityError:
            user = User.objects.get(email__iexact=email)
    return user, not user.has_usable_password()


def _send_access_email(*, grant: ProjectRoleGrant, needs_password: bool, language: str, actor) -> None:
    project, user = grant.project, grant.user
    context = {
        "user_id": user.pk,
        "project_number": project.number,
        "project_name": project.name,
        "organization_name": project.organization.name,
        "role": grant.role,
        "granted_by": (actor.get_full_name() or actor.email) if actor else "",
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
    }
    if needs_password:
        email_enqueue(
            to=user.email,
            subject_template="projects/email/choose_password_subject.txt",
            body_template="projects/email/choose_password_body.txt",
            context=context,
            language=language,
        )
    else:
        email_enqueue(
            to=user.email,
            subject_template="projects/email/access_granted_subject.txt",
            body_template="projects/email/access_granted_body.txt",
            context=context,
            language=user.language or language,
        )


def _grant_snapshot(grant: ProjectRoleGrant) -> dict:
    return {
        "who": grant.user.email if grant.user_id else grant.organization.public_id,
        "role": grant.role,
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
    }


def _refuse_delegation_grant(grant: ProjectRoleGrant) -> None:
    if grant.source == ProjectRoleGrant.Source.DELEGATION or grant.organization_id:
        raise Conflict(
            _("This role comes from a caretaker delegation. Change or end the delegation instead."),
            code="delegation_grant",
        )


@transaction.atomic
def project_member_add(
    *, project: Project, email: str, role: str, actor, expires_at: datetime | None = None, language: str | None = None
) -> ProjectRoleGrant:
    """Give the person with `email` a role on the project, optionally until `expires_at` (PRJ-3).

    Callers have checked the "manage_members" action. The person gets no org membership and so
    no org-wide rights. An address without an account gets one without a password and an email
    (in `language`) with a link to choose it; an existing account gets a notice. The answer is
    the same either way, so it never tells whether the address already had an account.
    """
    role = _clean_role(role)
    expires_at = _clean_expiry(expires_at)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("Please enter a valid email address."), field="email") from None
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    if project.status != Project.Status.ACTIVE:
        raise Conflict(_("This project is archived. Restore it first."), code="project_archived")

    user, needs_password = _user_for_email(email, language)
    existing = ProjectRoleGrant.objects.filter(project=project, user=user).first()
    before = _grant_snapshot(existing) if existing else None
    grant = project_grant_role(project=project, user=user, role=role, expires_at=expires_at, granted_by=actor)
    audit_record(
        action="project.role_changed" if existing else "project.role_granted",
        target=grant,
        actor=actor,
        organization=project.organization,
        acting_organization=_acting_organization_on_project(actor, project),
        before=before,
        after=_grant_snapshot(grant),
    )
    _send_access_email(grant=grant, needs_password=needs_password, language=language, actor=actor)
    notification_create_many(
        recipients=[user],
        kind="projects.access_granted",
        params={"number": project.number, "name": project.name},
        url=reverse("project-detail", kwargs={"number": project.number}),
    )
    return grant


@transaction.atomic
def project_member_change(
    *, grant: ProjectRoleGrant, role: str, actor, expires_at: datetime | None = None
) -> ProjectRoleGrant:
    """Change a person's role or end date on a project. Callers have checked "manage_members"."""
    _refuse_delegation_grant(grant)
    role = _clean_role(role)
    if expires_at != grant.expires_at:
        expires_at = _clean_expiry(expires_at)
    before = _grant_snapshot(grant)
    grant.role, grant.expires_at = role, expires_at
    grant.save(update_fields=["role", "expires_at"])
    _write_permission_rows(grant)
    audit_record(
        action="project.role_changed",
        target=grant,
        actor=actor,
        organization=grant.project.organization,
        acting_organization=_acting_organization_on_project(actor, grant.project),
        before=before,
        after=_grant_snapshot(grant),
    )
    return grant


@transaction.atomic
def project_member_remove(*, grant: ProjectRoleGrant, actor) -> None:
    """End a person's role on a project at once. Callers have checked "manage_members"."""
    _refuse_delegation_grant(grant)
    audit_record(
        action="project.role_revoked",
        target=grant,
        actor=actor,
        organization=grant.project.organization,
        acting_organization=_acting_organization_on_project(actor, grant.project),
        before=_grant_snapshot(grant),
    )
    project_revoke_grant(grant=grant)
