"""Shared mechanisms: the task outbox (PLT-3) and in-portal notifications (PLT-4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A unit of background work kept as a row, so nothing is lost while Redis is down.

    `kind` names the job; the job's own named Celery task (`@outbox_task` in an app's tasks.py)
    only carries the row's id; it claims the row with a conditional update (pending →
    processing), runs the job, and marks it done. While the
    handler runs the worker refreshes `heartbeat_at`; a periodic sweeper re-enqueues rows that
    stayed pending or whose heartbeat stopped (the worker died).

    Secrets a handler needs (an invitation token, a rendered password-reset link) go to
    `secret_payload`, which is emptied as soon as the row is done or failed; finished rows are
    deleted after `OUTBOX_RETENTION_DAYS`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    TRANSITIONS = {
        Status.PENDING: {Status.PROCESSING},
        Status.PROCESSING: {Status.DONE, Status.PENDING, Status.FAILED},
        Status.FAILED: {Status.PENDING},
    }

    kind = models.CharField(_("kind"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    # Needed only until the row has run: cleared when it is done or failed (no secret stays at rest).
    secret_payload = models.JSONField(_("secret payload"), default=dict, blank=True)
    # Makes enqueueing idempotent: the same logical message is stored once.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    available_at = models.DateTimeField(_("available at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # Refreshed by the worker while the handler runs; a stale heartbeat means the worker died.
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "available_at"]), models.Index(fields=["status", "done_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class Notification(models.Model):
    """An in-portal notification for one user, rendered in the reader's language.

    `kind` selects a message from `portal.notifications.REGISTRY`; `params` fills it. Storing the
    kind instead of text lets each user read it in their own language.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict)
    url = models.CharField(_("link"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def text(self) -> str:
        from .notifications import render_notification

        return render_notification(self.kind, self.params)
