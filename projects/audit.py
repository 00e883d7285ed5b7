"""Audit actions of projects and project roles (see `portal.audit`)."""

from django.utils.translation import gettext_lazy as _

from portal.audit import AuditField, audit_action, audit_fields

from .models import Project
from .roles import ProjectRole

audit_fields(
    number=AuditField(_("number")),
    name=AuditField(_("name")),
    description=AuditField(_("description")),
    status=AuditField(_("status")),
    who=AuditField(_("who")),
    role=AuditField(_("role")),
    expires_at=AuditField(_("expires"), kind="datetime"),
)

PROJECT_STATUS = {"status": Project.Status}
GRANT = {"actor": ("who", "role", "expires_at"), "values": {"role": ProjectRole}}

audit_action(
    "project.created",
    label=_("Project created"),
    sentence=_("{actor_org} created the project {target}."),
    actor=("number", "name"),
)
audit_action(
    "project.changed",
    label=_("Project changed"),
    sentence=_("{actor_org} changed the project {target}."),
    actor=("name", "description"),
)
audit_action(
    "project.archived",
    label=_("Project archived"),
    sentence=_("{actor_org} archived the project {target}."),
    actor=("status",),
    values=PROJECT_STATUS,
)
audit_action(
    "project.restored",
    label=_("Project restored"),
    sentence=_("{actor_org} restored the project {target}."),
    actor=("status",),
    values=PROJECT_STATUS,
)
audit_action(
    "project.deleted",
    label=_("Project deleted"),
    sentence=_("{actor_org} deleted the project {target}."),
    actor=("number", "name", "status"),
    values=PROJECT_STATUS,
)
audit_action(
    "project.role_granted",
    label=_("Project role granted"),
    sentence=_("{actor_org} gave {who} the project role {role}."),
    **GRANT,
)
audit_action(
    "project.role_changed",
    label=_("Project role changed"),
    sentence=_("{actor_org} changed the project role of {who} to {role}."),
    **GRANT,
)
audit_action(
    "project.role_revoked",
    label=_("Project role removed"),
    sentence=_("{actor_org} removed the project role of {who}."),
    **GRANT,
)
