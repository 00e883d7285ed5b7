"""The invitation email (ORG-5), sent by Celery from a stored outbox row.

The outbox row (`portal.outbox`) is stored in the transaction that creates or resends the
invitation, so it is never lost while Redis is down (the sweeper publishes it later), and claiming
it is a conditional UPDATE, so a row is processed once. The handler sends nothing for an
invitation that was revoked, accepted, has expired or was sent again meanwhile (a newer email
carries the only valid link). It renders the email when it is sent, in the invitee's language:
the account's language where the address has one, otherwise the one chosen when inviting.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from .models import Invitation, User

INVITATION_EMAIL_KIND = "organizations.invitation_email"


def invitation_email_send(payload: dict) -> None:
    invitation = (
        Invitation.objects.select_related("organization", "invited_by", "prepared_user")
        .filter(pk=payload["invitation_id"])
        .first()
    )
    if (
        invitation is None
        or not payload.get("token")  # the secret was already cleared: the row had finished
        or invitation.send_count != payload["send_number"]
        or invitation.current_status != Invitation.Status.PENDING
    ):
        return  # nothing valid to send: the link would not work
    account = User.objects.filter(email__iexact=invitation.email).first()
    language = account.language if account is not None and account.language else invitation.language
    prepared = invitation.prepared_user
    inviter = invitation.invited_by
    context = {
        "organization": invitation.organization.name,
        "inviter": (inviter.get_full_name() or inviter.email) if inviter else invitation.organization.name,
        "first_name": account.first_name if account is not None else invitation.first_name,
        "url": settings.PORTAL_BASE_URL + reverse("invitation-accept", kwargs={"token": payload["token"]}),
        "login_url": settings.PORTAL_BASE_URL + reverse("login"),
        # The account was prepared with the inviter's initial password and never used since.
        "initial_password": prepared is not None
        and account is not None
        and prepared.pk == account.pk
        and account.must_change_password,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        context["role"] = str(invitation.get_role_display())
        context["valid_until"] = formats.date_format(timezone.localtime(invitation.expires_at), "DATETIME_FORMAT")
        subject = " ".join(render_to_string("organizations/email/invitation_subject.txt", context).split())
        body = render_to_string("organizations/email/invitation_body.txt", context)
    EmailMultiAlternatives(subject=subject, body=body, to=[invitation.email]).send()
    Invitation.objects.filter(pk=invitation.pk, send_count=payload["send_number"]).update(emailed_at=timezone.now())
