"""Technical caretaker delegations on single projects (DLG-1 … DLG-7).

A delegation lets the members of a caretaker org (an agency) administer one project of another
org with the External project role, while contract, ordering and invoices stay with the project's
org. It starts either as a *request* by the caretaker (DLG-1) or as a *release* by the project's
org to an email address (DLG-2); the caretaker org of a release is known once it is accepted.

States (`TRANSITIONS`): pending → active | declined | cancelled | expired; active → revoked | expired.
Every change goes through `delegations.services` and `portal.state_machine.transition`.

Requests do not reveal foreign projects (issue 11, item 3): a request is stored with the number
the caretaker typed (`requested_number`) whether or not such a project exists. One for a missing
or hidden project, or from a requester the project's org blocked, is stored *without* project and
project org (`dropped` says why): its requester sees a pending request like any other, nobody
else sees or is told anything, and it expires after the response time. The caretaker side sees a
project's name and owner only once the request was accepted (`revealed_to`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.expiry import ExpiringStatus


class Delegation(ExpiringStatus):
    class Status(models.TextChoices):
        # A context of their own: the generic words are translated differently elsewhere.
        PENDING = "pending", pgettext_lazy("delegation status", "Pending")
        ACTIVE = "active", pgettext_lazy("delegation status", "Active")
        DECLINED = "declined", pgettext_lazy("delegation status", "Declined")
        CANCELLED = "cancelled", pgettext_lazy("delegation status", "Cancelled")
        EXPIRED = "expired", pgettext_lazy("delegation status", "Expired")
        REVOKED = "revoked", pgettext_lazy("delegation status", "Revoked")

    class Direction(models.TextChoices):
        REQUEST = "request", _("Requested by the caretaker")
        RELEASE = "release", _("Released by the project's organization")

    TRANSITIONS = {
        Status.PENDING: {Status.ACTIVE, Status.DECLINED, Status.CANCELLED, Status.EXPIRED},
        Status.ACTIVE: {Status.REVOKED, Status.EXPIRED},
    }
    OPEN_STATUSES = (Status.PENDING, Status.ACTIVE)
    # DLG-6: undecided past `respond_by`; DLG-5: open past `ends_at` (read as expired at once, `portal.expiry`).
    EXPIRES_WHEN = (((Status.PENDING,), "respond_by"), ((Status.PENDING, Status.ACTIVE), "ends_at"))

    class Dropped(models.TextChoices):
        # Why a request was stored without a project (never shown to the requester).
        NONE = "", _("Not dropped")
        UNKNOWN_PROJECT = "unknown_project", _("No active project with this number")
        BLOCKED = "blocked", _("The project's organization blocked the requester")

    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="delegations",
        verbose_name=_("project"),
        help_text=_("Empty for a dropped request."),
    )
    # The project's org at the time of the delegation: whose project it is and whose trail records it.
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="released_delegations",
        verbose_name=_("project organization"),
        help_text=_("Empty for a dropped request."),
    )
    # What the caretaker typed (lower case), or the released project's number: all the requester
    # sees of the project until the request is accepted.
    requested_number = models.CharField(_("project number"), max_length=30, blank=True, db_index=True)
    dropped = models.CharField(
        _("dropped"),
        max_length=20,
        choices=Dropped.choices,
        default="",
        blank=True,
        help_text=_("Support only: why a request was stored without a project. Its requester cannot tell."),
    )
    caretaker = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="caretaker_delegations",
        verbose_name=_("caretaker organization"),
        help_text=_("Empty until a release is accepted."),
    )
    direction = models.CharField(_("started as"), max_length=16, choices=Direction.choices)
    invited_email = models.EmailField(_("invited email"), blank=True, help_text=_("Releases only; lower case."))
    # One token per release: several projects released together share it (one email, one link).
    token = models.CharField(_("accept token"), max_length=64, blank=True, db_index=True, editable=False)
    message = models.TextField(_("message"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    ends_at = models.DateTimeField(_("access until"), null=True, blank=True)
    respond_by = models.DateTimeField(_("open until"), help_text=_("An undecided delegation expires then (DLG-6)."))

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    expiry_warned_at = models.DateTimeField(_("expiry warning sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # DLG-6, also under concurrency: one open delegation per project and caretaker …
            models.UniqueConstraint(
                fields=["project", "caretaker"],
                condition=Q(status__in=["pending", "active"]) & Q(caretaker__isnull=False),
                name="one_open_delegation_per_caretaker",
            ),
            # … and one open release per project and invited address.
            models.UniqueConstraint(
                fields=["project", "invited_email"],
                condition=Q(status="pending") & Q(caretaker__isnull=True),
                name="one_open_release_per_email",
            ),
            models.CheckConstraint(
                condition=Q(direction="release") | Q(caretaker__isnull=False), name="request_has_caretaker"
            ),
            models.CheckConstraint(condition=Q(direction="request") | ~Q(invited_email=""), name="release_has_email"),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(caretaker__isnull=False), name="active_has_caretaker"
            ),
            # Item 3: one pending request per caretaker and typed number, whether the project exists
            # or not – so a duplicate is refused alike for both.
            models.UniqueConstraint(
                fields=["caretaker", "requested_number"],
                condition=Q(status="pending", direction="request"),
                name="one_pending_request_per_number",
            ),
            # A dropped request has neither project nor project org; every other row has both.
            models.CheckConstraint(
                condition=(
                    Q(project__isnull=True)
                    & Q(organization__isnull=True)
                    & Q(direction="request")
                    & ~Q(dropped="")
                    & ~Q(status="active")
                )
                | (Q(project__isnull=False) & Q(organization__isnull=False) & Q(dropped="")),
                name="dropped_request_has_no_project",
            ),
        ]
        indexes = [
            # Issue 13: the tabs (and dashboard panels) of released and managed projects list by end
            # date, newest first within a date: one side's rows of a status come from the index in
            # that order (no sort of an agency's 10,000 managed rows); also the (side, status) filters.
            models.Index(
                fields=["organization", "status", "ends_at", "-created_at", "-id"], name="delegation_org_ends"
            ),
            models.Index(
                fields=["caretaker", "status", "ends_at", "-created_at", "-id"], name="delegation_caretaker_ends"
            ),
            models.Index(fields=["status", "ends_at"]),
            models.Index(fields=["status", "respond_by"]),
            # Issue 13: the API's default order; an agency with 30,000 delegations gets its newest
            # page from the index instead of sorting every row.
            models.Index(fields=["-created_at", "-id"], name="delegation_newest_first"),
        ]

    def __str__(self) -> str:
        caretaker = self.caretaker.name if self.caretaker_id else self.invited_email
        return f"{self.number} → {caretaker}"

    @property
    def number(self) -> str:
        """The project number as the requester typed it (lower case) or the project's own."""
        return self.requested_number or (self.project.number if self.project_id else "")

    @property
    def was_accepted(self) -> bool:
        """Accepted at some point: active now, or revoked or expired after being active."""
        if self.project_id is None:
            return False
        return self.status in (self.Status.ACTIVE, self.Status.REVOKED) or (
            self.status == self.Status.EXPIRED and self.decided_at is not None
        )

    def revealed_to(self, organization) -> bool:
        """May `organization` see the project's name and owning org? (issue 11, item 3)

        The project's side always; the caretaker of a release (the project's org chose to write
        to it); the caretaker of a request only once the project's org accepted it.
        """
        side = self.side_of(organization)
        if side == "project":
            return True
        if side == "caretaker":
            return self.direction == self.Direction.RELEASE or self.was_accepted
        return False

    def side_of(self, organization) -> str | None:
        """ "project" or "caretaker": on which side `organization` stands (None if neither)."""
        if organization is None:
            return None
        if self.organization_id is not None and organization.pk == self.organization_id:
            return "project"
        if self.caretaker_id is not None and organization.pk == self.caretaker_id:
            return "caretaker"
        return None

    @property
    def initiator_side(self) -> str:
        return "caretaker" if self.direction == self.Direction.REQUEST else "project"


class DelegationRequesterBlock(models.Model):
    """An org's Owners/Admins refuse further delegation requests from one requester org.

    Requests from a blocked org are stored as dropped (see `Delegation.dropped`): to the requester
    they look like any other, the blocking org never sees or hears of them.
    """

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="delegation_requester_blocks",
        verbose_name=_("organization"),
    )
    blocked_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("blocked requester"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("blocked by"),
    )
    created_at = models.DateTimeField(_("blocked at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("blocked delegation requester")
        verbose_name_plural = _("blocked delegation requesters")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "blocked_organization"], name="one_block_per_requester"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ⊘ {self.blocked_organization}"
