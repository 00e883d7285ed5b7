"""Projects (PRJ-1) and project role grants (PRJ-2) stored as django-guardian object permissions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from portal.indexes import TrigramGinIndex

from .roles import ProjectRole

PROJECT_NUMBER_OFFSET = 10000


class ProjectQuerySet(models.QuerySet):
    def search(self, term: str):
        """By name (any part) or number (`p-10042`, or just `10042`)."""
        term = (term or "").strip()
        if not term:
            return self
        return self.filter(models.Q(name__icontains=term) | models.Q(number__icontains=term.lower()))


class Project(models.Model):
    """A project of one organization with a globally unique human number (`p-10042`)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    # Archiving is reversible (restore); see portal.state_machine.
    TRANSITIONS = {Status.ACTIVE: {Status.ARCHIVED}, Status.ARCHIVED: {Status.ACTIVE}}

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="projects", verbose_name=_("organization")
    )
    # Derived from the primary key after the insert (projects.services.project_create): unique by
    # construction, also under concurrent creation, and never reused.
    number = models.CharField(_("number"), max_length=20, unique=True, null=True, editable=False)  # noqa: DJ001 - NULL until the insert has a pk
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["name", "id"]
        permissions = [
            ("manage_project_members", _("Can manage the project's members")),
            ("order_project_services", _("Can order paid services for the project")),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            # the lists' order: a page of a large reach walks this index and stops after its rows (issue 13)
            models.Index(fields=["name", "id"], name="project_name_order"),
            # `search`: icontains is UPPER(col) LIKE '%…%', served by trigrams (pg_trgm, issue 13)
            TrigramGinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="project_name_trgm"),
            TrigramGinIndex(OpClass(Upper("number"), name="gin_trgm_ops"), name="project_number_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class ProjectRoleGrantQuerySet(models.QuerySet):
    def in_force(self, at=None):
        """Grants honoured at `at` (default now): an end date in the past is not honoured."""
        at = at or timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at))


class ProjectRoleGrant(models.Model):
    """One project role held by a user, or by every member of an organization (a caretaker, DLG-4).

    The grant is the record people manage; the guardian permission rows below are derived from
    it (one per permission of the role) and deleted with it.
    """

    class Source(models.TextChoices):
        DIRECT = "direct", _("Assigned in the project")
        DELEGATION = "delegation", _("Caretaker delegation")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="grants", verbose_name=_("project"))
    role = models.CharField(_("role"), max_length=16, choices=ProjectRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="project_grants",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="project_grants",
        verbose_name=_("organization"),
        help_text=_("Every member of this organization holds the role (caretakers)."),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.DIRECT)
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ProjectRoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("project role")
        verbose_name_plural = _("project roles")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(organization__isnull=True))
                | (models.Q(user__isnull=True) & models.Q(organization__isnull=False)),
                name="grant_user_xor_organization",
            ),
            models.UniqueConstraint(
                fields=["project", "user"], condition=models.Q(user__isnull=False), name="one_grant_per_user"
            ),
            models.UniqueConstraint(
                fields=["project", "organization"],
                condition=models.Q(organization__isnull=False),
                name="one_grant_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} – {self.user or self.organization}: {self.get_role_display()}"

    def is_in_force(self, at=None) -> bool:
        return self.expires_at is None or self.expires_at > (at or timezone.now())


class ProjectUserObjectPermission(UserObjectPermissionBase):
    """django-guardian direct-FK user permission on a project, derived from a grant."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)
    grant = models.ForeignKey(ProjectRoleGrant, on_delete=models.CASCADE, related_name="user_permissions")

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class ProjectGroupObjectPermission(GroupObjectPermissionBase):
    """django-guardian direct-FK group permission (an org's members group) on a project."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)
    grant = models.ForeignKey(ProjectRoleGrant, on_delete=models.CASCADE, related_name="group_permissions")

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        indexes = [models.Index(fields=["group", "permission", "content_object"])]
