"""What delegation participants are told: in-portal notifications and emails (PLT-4).

Notifications go to the Owners/Admins of one side (those who may decide and revoke); emails go
through the outbox in each recipient's own language, once per event and recipient (dedupe key).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization, User
from organizations.selectors import members_with_capability
from portal.emails import email_enqueue
from portal.notifications import notification_create_many, notification_kind
from portal.templatetags.ui import inclusive_end, moment, until

from .models import Delegation

KINDS = {
    "requested": _("{caretaker} asks to take care of project {project}."),
    "accepted": _("Delegation of project {project} to {caretaker} is active."),
    "declined": _("Delegation of project {project} to {caretaker} was declined."),
    "cancelled": _("The delegation request for project {project} was withdrawn."),
    "revoked": _("Delegation of project {project} to {caretaker} was revoked."),
    "expiring": _("Delegation of project {project} to {caretaker} ends on {ends_on}."),
    "expired": _("Delegation of project {project} to {caretaker} has expired."),
}
EMAIL_EVENTS = {"requested", "accepted", "declined", "revoked", "expiring"}

for _event, _message in KINDS.items():
    notification_kind(f"delegations.{_event}", _message, dates=("ends_on",))


def format_moment(value, language: str) -> str:
    """A point in time in the reader's language (emails are rendered later, so format it now)."""
    if value is None:
        return ""
    with translation.override(language):
        return moment(value)


def format_end(value, language: str) -> str:
    """An inclusive end ("access until 30 June", stored as 1 July 00:00) as its last day (issue 16)."""
    if value is None:
        return ""
    with translation.override(language):
        return until(value)


def detail_path(delegation: Delegation, organization: Organization) -> str:
    return reverse("delegation-detail", kwargs={"org": organization.public_id, "delegation_id": delegation.pk})


def _caretaker_name(delegation: Delegation) -> str:
    return delegation.caretaker.name if delegation.caretaker_id else delegation.invited_email


def notify_side(delegation: Delegation, *, organization: Organization | None, event: str) -> None:
    """Tell the Owners/Admins of `organization` (one side of the delegation) about `event`."""
    if organization is None or organization.status != Organization.Status.ACTIVE:
        return
    recipients = members_with_capability(organization, "requests.decide")
    if not recipients:
        return
    url = detail_path(delegation, organization)
    # Issue 11, item 3: a requester learns the project's name and owner only once it is accepted.
    revealed = delegation.revealed_to(organization)
    params = {
        "project": f"{delegation.project.number} {delegation.project.name}" if revealed else delegation.number,
        "organization": delegation.organization.name if revealed else "",
        "caretaker": _caretaker_name(delegation),
        # the inclusive last day as an ISO day, shown in each reader's format (issue 16)
        "ends_on": inclusive_end(delegation.ends_at).isoformat() if delegation.ends_at else "",
    }
    notification_create_many(
        recipients=recipients, kind=f"delegations.{event}", params=params, organization=organization, url=url
    )
    if event not in EMAIL_EVENTS:
        return
    for user in recipients:
        email_enqueue(
            to=user.email,
            subject_template=f"delegations/email/{event}_subject.txt",
            body_template=f"delegations/email/{event}_body.txt",
            context={
                **params,
                "project_number": delegation.number,
                "project_name": delegation.project.name if revealed else "",
                "revealed": revealed,
                "message": delegation.message,
                "ends_on": format_end(delegation.ends_at, user.language),
                "recipient_side": delegation.side_of(organization),
                "url": url,
            },
            language=user.language,
            dedupe_key=f"delegation:{delegation.pk}:{event}:{user.pk}",
        )


def email_release(delegations: list[Delegation], *, actor) -> None:
    """The release email with the accept link to the invited address (DLG-2), one per release."""
    first = delegations[0]
    known = User.objects.filter(email__iexact=first.invited_email).values_list("language", flat=True).first()
    language = known or getattr(actor, "language", "") or "en"
    email_enqueue(
        to=first.invited_email,
        subject_template="delegations/email/released_subject.txt",
        body_template="delegations/email/released_body.txt",
        context={
            "organization": first.organization.name,
            "projects": [f"{d.project.number} {d.project.name}" for d in delegations],
            "message": first.message,
            "ends_on": format_end(first.ends_at, language),
            "respond_by": format_moment(first.respond_by, language),
            "url": reverse("delegation-release-accept", kwargs={"token": first.token}),
        },
        language=language,
        dedupe_key=f"delegation-release:{first.token}",
    )
