"""Invitations into an organization (ORG-5): create, resend, revoke, expire and accept.

Who may invite is read from the role table (`organizations.roles`): `members.invite` to invite,
resend and revoke; nobody invites above their own role (`members.require_may_grant`). Every
invitation change locks the row, then moves it with a conditional UPDATE
(`portal.state_machine.transition`), so of two concurrent requests exactly one wins.

No answer reveals whether an email address already has an account: creating, resending and
revoking look the same either way; only the link's holder (the mailbox owner) is told whether to
log in or to choose a password.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from portal.audit import audit_record
from portal.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from portal.outbox import outbox_enqueue
from portal.state_machine import transition
from portal.tenancy import OrgContext

from ..invitation_emails import INVITATION_EMAIL_KIND
from ..models import Invitation, Membership, Organization, User
from ..selectors import invitation_for_token
from .members import acting_role, may_set_initial_password, membership_set, require_in_context, require_may_grant

# ORG-5: a resend within this interval is refused, so a double click sends one email.
INVITATION_RESEND_INTERVAL = timedelta(seconds=60)


class InvitationClosed(DomainError):
    """The invitation link was used, withdrawn or has expired (410)."""

    status = 410
    default_code = "invitation_closed"


def _invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_state(invitation: Invitation) -> dict:
    return {
        "email": invitation.email,
        "role": invitation.role,
        "status": invitation.status,
        "expires_at": invitation.expires_at.isoformat() if invitation.expires_at else None,
        "send_count": invitation.send_count,
    }


def _invitation_audit(invitation: Invitation, action: str, *, actor, context=None, before=None) -> None:
    audit_record(
        action=f"invitation.{action}",
        target=invitation,
        actor=actor,
        organization=invitation.organization,
        acting_organization=context.acting_organization if context else None,
        before=before,
        after=_invitation_state(invitation),
    )


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(gettext("Enter a valid email address."), field="email") from None
    return email


def _clean_language(language: str | None, actor) -> str:
    languages = dict(settings.LANGUAGES)
    if language:
        if language not in languages:
            raise InvalidInput(gettext("Choose a valid language."), field="language")
        return language
    actor_language = getattr(actor, "language", "")
    return actor_language if actor_language in languages else settings.LANGUAGE_CODE


def _duplicate_invitation() -> Conflict:
    return Conflict(
        gettext("There already is a pending invitation for this address. Resend it instead."),
        code="duplicate",
        field="email",
    )


def _validate_new_password(password: str, *, email: str, first_name: str = "", last_name: str = "", field: str) -> None:
    try:
        validate_password(password, user=User(email=email, first_name=first_name, last_name=last_name))
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), code="weak_password", field=field) from None


def _invitation_enqueue_email(invitation: Invitation, token: str) -> None:
    """Store the email as an outbox row (sent by Celery after commit, swept if Redis was down).

    One row per sending (`send_count`), so a resend is a new email and a retried enqueue is not.
    The raw token is an outbox secret: emptied once the row has run (the invitation stores only
    its hash), so it never stays in the database.
    """
    outbox_enqueue(
        kind=INVITATION_EMAIL_KIND,
        payload={"invitation_id": invitation.pk, "send_number": invitation.send_count},
        secrets={"token": token},
        dedupe_key=f"invitation:{invitation.pk}:{invitation.send_count}",
    )


def invitation_expire(*, invitation: Invitation) -> bool:
    """Record that a pending invitation's time has passed. Returns False if there was nothing to do.

    Idempotent; runs in its own transaction, so a refusal raised afterwards does not undo it.
    """
    with transaction.atomic():
        if not Invitation.objects.due_to_expire().filter(pk=invitation.pk).exists():
            return False
        before = _invitation_state(invitation)
        try:
            transition(
                invitation, Invitation.Status.EXPIRED, sources={Invitation.Status.PENDING}, expired_at=timezone.now()
            )
        except Conflict:
            return False
        _invitation_audit(invitation, "expired", actor=None, before=before)
    return True


def invitation_expire_due(*, limit: int = 1000) -> int:
    """The periodic job: record expiries of pending invitations past their time (idempotent)."""
    expired = 0
    for invitation in Invitation.objects.due_to_expire().select_related("organization").order_by("id")[:limit]:
        expired += invitation_expire(invitation=invitation)
    return expired


def _refuse_unless_open(invitation: Invitation) -> None:
    """410 with the reason for a link that no longer works; records a due expiry first."""
    if (
        invitation.status == Invitation.Status.PENDING
        and invitation.status_at(timezone.now()) == Invitation.Status.EXPIRED
    ):
        invitation_expire(invitation=invitation)
        invitation.refresh_from_db()
    if invitation.status == Invitation.Status.EXPIRED:
        raise InvitationClosed(
            gettext("This invitation has expired. Ask %(organization)s to send it again.")
            % {"organization": invitation.organization.name},
            code="expired",
        )
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationClosed(gettext("This invitation was withdrawn."), code="revoked")
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationClosed(gettext("This invitation has already been accepted."), code="already_accepted")


def _lock_invitation(invitation: Invitation, token_hash: str | None = None) -> Invitation:
    """The row, locked for this transaction; with `token_hash`, only while the link is current."""
    rows = Invitation.objects.select_for_update().select_related("organization").filter(pk=invitation.pk)
    if token_hash is not None:
        rows = rows.filter(token_hash=token_hash)
    locked = rows.first()
    if locked is None:  # a resend replaced the link meanwhile
        raise InvitationClosed(gettext("This link was replaced by a newer invitation email."), code="replaced")
    return locked


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    actor,
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
    initial_password: str | None = None,
) -> Invitation:
    """Invite `email` into `organization` with `role` and email the link in the invitee's language.

    Caller: a holder of `members.invite` there (Owner/Admin, partner staff acting in a linked
    customer), support staff outside the org (ORG-9) or the system (`actor=None`, e.g. onboarding).
    Nobody invites above their own role; an org without an Owner may get its first one (ORG-2).

    `initial_password` (partner staff and support only): where the address has no account yet, the
    account is created now with it and must change it at first login; for an existing account it
    is ignored. Either way the answer is the same and the password is never emailed.

    Raises InvalidInput (400), PermissionDenied (403), Conflict (409: already a member, or a
    pending invitation for the address exists).
    """
    if organization.status != Organization.Status.ACTIVE:
        raise NotFound(gettext("Not found."))
    actor_role, context = acting_role(organization, actor)
    require_in_context(context, "members.invite")
    require_may_grant(context, role, actor_role, organization)
    email = _clean_email(email)
    first_name, last_name = (first_name or "").strip()[:150], (last_name or "").strip()[:150]
    language = _clean_language(language, actor)
    if initial_password:
        if not may_set_initial_password(context):
            raise PermissionDenied(
                gettext("Only partner staff can set an initial password."),
                code="initial_password_not_allowed",
                field="initial_password",
            )
        _validate_new_password(
            initial_password, email=email, first_name=first_name, last_name=last_name, field="initial_password"
        )
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict(
            gettext("This person already is a member of this organization."), code="already_member", field="email"
        )
    for stale in Invitation.objects.due_to_expire().filter(organization=organization, email=email):
        invitation_expire(invitation=stale)
    if Invitation.objects.filter(organization=organization, email=email, status=Invitation.Status.PENDING).exists():
        raise _duplicate_invitation()

    prepared_user = None
    if initial_password and not User.objects.filter(email__iexact=email).exists():
        try:
            with transaction.atomic():
                prepared_user = User.objects.create_user(
                    email,
                    initial_password,
                    first_name=first_name,
                    last_name=last_name,
                    language=language,
                    must_change_password=True,
                )
        except IntegrityError:
            prepared_user = None  # created concurrently: an existing account keeps its password

    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        language=language,
        token_hash=_invitation_token_hash(token),
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
        with_initial_password=bool(initial_password),
        prepared_user=prepared_user,
        send_count=1,
        sent_at=now,
        invited_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
    )
    try:
        with transaction.atomic():
            invitation.save(force_insert=True)
    except IntegrityError as error:
        raise _duplicate_invitation() from error
    _invitation_audit(invitation, "created", actor=actor, context=context)
    _invitation_enqueue_email(invitation, token)
    return invitation


def invitation_resend(*, invitation: Invitation, actor, context: OrgContext | None = None) -> Invitation:
    """Send a pending or expired invitation again: a new link, valid for 7 more days (ORG-5).

    Caller: like `invitation_create` (resending re-grants the role). The old link stops working.
    A second resend within a minute is refused (409), so a double click sends one email.
    """
    organization = invitation.organization
    actor_role, context = acting_role(organization, actor, context)
    require_in_context(context, "members.invite")
    require_may_grant(context, invitation.role, actor_role, organization)
    with transaction.atomic():
        locked = _lock_invitation(invitation)
        if (
            locked.status in (Invitation.Status.PENDING, Invitation.Status.EXPIRED)
            and locked.sent_at
            and (locked.sent_at > timezone.now() - INVITATION_RESEND_INTERVAL)
        ):
            raise Conflict(gettext("This invitation was sent less than a minute ago."), code="resent_recently")
        before = _invitation_state(locked)
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        try:
            with transaction.atomic():
                transition(
                    locked,
                    Invitation.Status.PENDING,
                    token_hash=_invitation_token_hash(token),
                    expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
                    send_count=F("send_count") + 1,
                    sent_at=now,
                    expired_at=None,
                )
        except IntegrityError as error:  # a newer pending invitation for the address exists
            raise _duplicate_invitation() from error
        _invitation_audit(locked, "resent", actor=actor, context=context, before=before)
        _invitation_enqueue_email(locked, token)
    invitation.refresh_from_db()
    return invitation


def invitation_revoke(*, invitation: Invitation, actor, context: OrgContext | None = None) -> Invitation:
    """Withdraw a pending invitation; its link stops working at once (ORG-5).

    Caller: `members.invite`, and only Owners for Owner invitations. An account prepared with an
    initial password that was never used loses that password.
    """
    organization = invitation.organization
    actor_role, context = acting_role(organization, actor, context)
    require_in_context(context, "members.invite")
    require_may_grant(context, invitation.role, actor_role, organization)
    if (
        invitation.status == Invitation.Status.PENDING
        and invitation.status_at(timezone.now()) == Invitation.Status.EXPIRED
    ):
        invitation_expire(invitation=invitation)
    with transaction.atomic():
        locked = _lock_invitation(invitation)
        before = _invitation_state(locked)
        transition(
            locked,
            Invitation.Status.REVOKED,
            sources={Invitation.Status.PENDING},
            revoked_by=actor if getattr(actor, "is_authenticated", False) else None,
            revoked_at=timezone.now(),
        )
        prepared = locked.prepared_user
        if prepared is not None and prepared.last_login is None and not prepared.memberships.exists():
            prepared.set_unusable_password()
            prepared.save(update_fields=["password"])
        _invitation_audit(locked, "revoked", actor=actor, context=context, before=before)
    invitation.refresh_from_db()
    return invitation


def _accept_locked(invitation: Invitation, token_hash: str, user) -> Membership:
    locked = _lock_invitation(invitation, token_hash)
    _refuse_unless_open(locked)
    before = _invitation_state(locked)
    transition(
        locked,
        Invitation.Status.ACCEPTED,
        sources={Invitation.Status.PENDING},
        accepted_by=user,
        accepted_at=timezone.now(),
    )
    membership = Membership.objects.filter(organization=locked.organization, user=user).first()
    if membership is None:  # someone who became a member meanwhile keeps the role they have
        membership = membership_set(organization=locked.organization, user=user, role=locked.role, actor=user)
    _invitation_audit(locked, "accepted", actor=user, before=before)
    invitation.refresh_from_db()
    return membership


def invitation_open_for_token(*, token: str) -> Invitation:
    """The invitation of a link while it can be accepted: 404 unknown, 410 used/withdrawn/expired."""
    invitation = invitation_for_token(token=token)
    _refuse_unless_open(invitation)
    return invitation


def invitation_accept(*, token: str, user) -> Membership:
    """The invited person, logged in with the invited address, accepts (ORG-5).

    404 for an unknown link, 410 for a used, withdrawn or expired one, 403 for another account.
    """
    invitation = invitation_open_for_token(token=token)
    if (getattr(user, "email", "") or "").lower() != invitation.email:
        raise PermissionDenied(
            gettext("This invitation was sent to a different email address. Log in with that address to accept it."),
            code="wrong_account",
        )
    with transaction.atomic():
        return _accept_locked(invitation, _invitation_token_hash(token), user)


def invitation_accept_new_account(*, token: str, first_name: str, last_name: str, password: str):
    """A person without an account accepts: the account is created with the chosen password.

    The link proves the address, so no further confirmation is needed. Returns (user, membership).
    409 where an account with the address exists (log in and accept instead).
    """
    invitation = invitation_open_for_token(token=token)
    first_name, last_name = (first_name or "").strip()[:150], (last_name or "").strip()[:150]
    if not first_name or not last_name:
        raise InvalidInput(
            gettext("Enter your first and last name."), field="first_name" if not first_name else "last_name"
        )
    account_exists = Conflict(
        gettext("An account with this email address exists. Log in to accept the invitation."), code="account_exists"
    )
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise account_exists
    _validate_new_password(
        password, email=invitation.email, first_name=first_name, last_name=last_name, field="password1"
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email, password, first_name=first_name, last_name=last_name, language=invitation.language
                )
        except IntegrityError as error:
            raise account_exists from error
        membership = _accept_locked(invitation, _invitation_token_hash(token), user)
    return user, membership
