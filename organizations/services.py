"""Writes of organizations, memberships and the audit trail."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext

from portal.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from portal.hooks import run_hooks
from portal.outbox import outbox_enqueue
from portal.state_machine import transition
from portal.tenancy import OrgContext, org_context_for_organization

from .models import AuditEvent, Invitation, Membership, Organization, User
from .roles import OrgKind, OrgRole, can_grant_role, can_manage_member, grantable_roles

# ORG-5: a resend within this interval is refused, so a double click sends one email.
INVITATION_RESEND_INTERVAL = timedelta(seconds=60)


def audit_record(
    *,
    action: str,
    target,
    actor=None,
    organization: Organization | None = None,
    acting_organization: Organization | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail (ORG-10). The shared mechanism every app writes to.

    `organization` is whose trail it belongs to (default: the target's org where it has one);
    `acting_organization` the org the actor acted from (a partner or caretaker org).
    """
    if organization is None:
        organization = target if isinstance(target, Organization) else getattr(target, "organization", None)
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor_user,
        actor_email=getattr(actor_user, "email", "") or "",
        acting_organization=acting_organization,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        before=_jsonable(before),
        after=_jsonable(after),
    )


def _jsonable(data):
    if data is None:
        return None
    return {key: (value if isinstance(value, str | int | float | bool | type(None)) else str(value)) for key, value in data.items()}


def snapshot(instance, fields: list[str]) -> dict:
    """The listed fields of an instance, for `before`/`after` of an audit event."""
    return _jsonable(model_to_dict(instance, fields=fields))


@transaction.atomic
def organization_create(*, name: str, kind: str = OrgKind.CUSTOMER, actor=None, **fields) -> Organization:
    """Create an org with its members group (used for org-wide guardian permissions)."""
    organization = Organization(name=name.strip(), kind=kind, **fields)
    organization.full_clean(exclude=["members_group", "logo"])
    organization.save()
    organization.members_group = Group.objects.create(name=f"org:{organization.public_id}")
    organization.save(update_fields=["members_group"])
    audit_record(action="organization.created", target=organization, actor=actor, after={"name": name, "kind": kind})
    run_hooks("organization.created", organization=organization, actor=actor)
    return organization


@transaction.atomic
def membership_set(*, organization: Organization, user, role: str, actor=None) -> Membership:
    """Add `user` to the org with `role`, or change the role; keeps the members group in sync."""
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    before = None if created else {"role": membership.role}
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if organization.members_group_id:
        user.groups.add(organization.members_group_id)
    audit_record(
        action="membership.added" if created else "membership.changed",
        target=membership,
        actor=actor,
        organization=organization,
        before=before,
        after={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor=None) -> None:
    organization = membership.organization
    if organization.members_group_id:
        membership.user.groups.remove(organization.members_group_id)
    audit_record(
        action="membership.removed",
        target=membership,
        actor=actor,
        organization=organization,
        before={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


# --- ORG-5: members, roles and invitations -------------------------------------------------------
#
# Who may do what is read from the role table (`organizations.roles`): `members.invite` to invite,
# resend and revoke, `members.manage` to change roles and remove members, `members.manage_owners`
# for anything touching an Owner; nobody grants a role above their own (`can_grant_role`) and the
# last Owner stays. Every invitation change locks the row, then moves it with a conditional UPDATE
# (`portal.state_machine.transition`), so of two concurrent requests exactly one wins.
#
# No answer reveals whether an email address already has an account: creating, resending and
# revoking look the same either way; only the link's holder (the mailbox owner) is told whether to
# log in or to choose a password.


class InvitationClosed(DomainError):
    """The invitation link was used, withdrawn or has expired (410)."""

    status = 410
    default_code = "invitation_closed"


def _invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_valid_until():
    return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)


def _acting_role(organization: Organization, actor, context: OrgContext | None = None):
    """(role, context) of `actor` in `organization`.

    `actor=None` is the system (onboarding code, commands) and support staff outside the org act
    from the Django admin (ORG-9): both count as Owner, without an org context.
    """
    if context is not None:
        if context.organization.pk != organization.pk:
            raise NotFound(gettext("Not found."))
        return context.role, context
    if actor is None:
        return OrgRole.OWNER, None
    try:
        context = org_context_for_organization(actor, organization)
    except NotFound:
        if getattr(actor, "is_staff", False) and getattr(actor, "is_active", False):
            return OrgRole.OWNER, None
        raise
    return context.role, context


def _require(context: OrgContext | None, capability: str) -> None:
    if context is not None:
        context.require(capability)


def _has_owner(organization: Organization) -> bool:
    return Membership.objects.filter(organization=organization, role=OrgRole.OWNER).exists()


def may_set_initial_password(context: OrgContext | None) -> bool:
    """ORG-5: partner staff (in their own org or acting in a linked customer) and support/system."""
    return context is None or context.acting_as_partner or context.organization.is_partner


def roles_grantable_in(context: OrgContext) -> list[str]:
    """The roles the user of `context` may invite with or give to members."""
    return grantable_roles(context.role, organization_has_owner=_has_owner(context.organization))


def _require_may_grant(context: OrgContext | None, role: str, actor_role: str, organization: Organization) -> None:
    if role not in OrgRole.values:
        raise InvalidInput(gettext("Choose a valid role."), field="role")
    if not can_grant_role(actor_role, role, organization_has_owner=_has_owner(organization)):
        if role == OrgRole.OWNER:
            raise PermissionDenied(gettext("Only Owners can make someone an Owner."), code="above_own_role", field="role")
        raise PermissionDenied(gettext("You cannot grant a role above your own."), code="above_own_role", field="role")


def _acting_organization(context: OrgContext | None) -> Organization | None:
    return (context.via_partner or context.organization) if context is not None else None


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
        acting_organization=_acting_organization(context),
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
    """
    from .invitation_emails import INVITATION_EMAIL_KIND

    outbox_enqueue(
        kind=INVITATION_EMAIL_KIND,
        payload={"invitation_id": invitation.pk, "token": token, "send_number": invitation.send_count},
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
            transition(invitation, Invitation.Status.EXPIRED, sources={Invitation.Status.PENDING}, expired_at=timezone.now())
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
    if invitation.status == Invitation.Status.PENDING and invitation.status_at(timezone.now()) == Invitation.Status.EXPIRED:
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
    actor_role, context = _acting_role(organization, actor)
    _require(context, "members.invite")
    _require_may_grant(context, role, actor_role, organization)
    email = _clean_email(email)
    first_name, last_name = (first_name or "").strip()[:150], (last_name or "").strip()[:150]
    language = _clean_language(language, actor)
    if initial_password:
        if not may_set_initial_password(context):
            raise PermissionDenied(
                gettext("Only partner staff can set an initial password."), code="initial_password_not_allowed",
                field="initial_password",
            )
        _validate_new_password(
            initial_password, email=email, first_name=first_name, last_name=last_name, field="initial_password"
        )
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict(gettext("This person already is a member of this organization."), code="already_member", field="email")
    for stale in Invitation.objects.due_to_expire().filter(organization=organization, email=email):
        invitation_expire(invitation=stale)
    if Invitation.objects.filter(organization=organization, email=email, status=Invitation.Status.PENDING).exists():
        raise _duplicate_invitation()

    prepared_user = None
    if initial_password and not User.objects.filter(email__iexact=email).exists():
        try:
            with transaction.atomic():
                prepared_user = User.objects.create_user(
                    email, initial_password, first_name=first_name, last_name=last_name, language=language,
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
    actor_role, context = _acting_role(organization, actor, context)
    _require(context, "members.invite")
    _require_may_grant(context, invitation.role, actor_role, organization)
    with transaction.atomic():
        locked = _lock_invitation(invitation)
        if locked.status in (Invitation.Status.PENDING, Invitation.Status.EXPIRED) and locked.sent_at and (
            locked.sent_at > timezone.now() - INVITATION_RESEND_INTERVAL
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
    actor_role, context = _acting_role(organization, actor, context)
    _require(context, "members.invite")
    _require_may_grant(context, invitation.role, actor_role, organization)
    if invitation.status == Invitation.Status.PENDING and invitation.status_at(timezone.now()) == Invitation.Status.EXPIRED:
        invitation_expire(invitation=invitation)
    with transaction.atomic():
        locked = _lock_invitation(invitation)
        before = _invitation_state(locked)
        transition(
            locked, Invitation.Status.REVOKED, sources={Invitation.Status.PENDING},
            revoked_by=actor if getattr(actor, "is_authenticated", False) else None, revoked_at=timezone.now(),
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
        locked, Invitation.Status.ACCEPTED, sources={Invitation.Status.PENDING},
        accepted_by=user, accepted_at=timezone.now(),
    )
    membership = Membership.objects.filter(organization=locked.organization, user=user).first()
    if membership is None:  # someone who became a member meanwhile keeps the role they have
        membership = membership_set(organization=locked.organization, user=user, role=locked.role, actor=user)
    _invitation_audit(locked, "accepted", actor=user, before=before)
    invitation.refresh_from_db()
    return membership


def invitation_open_for_token(*, token: str) -> Invitation:
    """The invitation of a link while it can be accepted: 404 unknown, 410 used/withdrawn/expired."""
    from .selectors import invitation_for_token

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
        raise InvalidInput(gettext("Enter your first and last name."), field="first_name" if not first_name else "last_name")
    account_exists = Conflict(
        gettext("An account with this email address exists. Log in to accept the invitation."), code="account_exists"
    )
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise account_exists
    _validate_new_password(password, email=invitation.email, first_name=first_name, last_name=last_name, field="password1")
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


def _lock_owners(organization: Organization) -> int:
    """Lock the org row (serialising member changes of the org) and count its Owners."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    return Membership.objects.filter(organization=organization, role=OrgRole.OWNER).count()


def _require_may_manage(context: OrgContext | None, actor_role: str, membership: Membership) -> None:
    _require(context, "members.manage")
    if membership.role == OrgRole.OWNER:
        _require(context, "members.manage_owners")
    if not can_manage_member(actor_role, membership.role):
        raise PermissionDenied(gettext("Only Owners can change or remove an Owner."), code="above_own_role")


def _last_owner_error() -> Conflict:
    return Conflict(
        gettext("An organization needs at least one Owner. Make someone else Owner first."), code="last_owner"
    )


def member_change_role(*, membership: Membership, role: str, actor, context: OrgContext | None = None) -> Membership:
    """Give a member another role (ORG-5). Caller: `members.manage`; Owners for anything Owner.

    Nobody grants above their own role; the last Owner cannot be demoted (409), also when two
    Owners demote each other at the same moment (the org row is locked).
    """
    organization = membership.organization
    actor_role, context = _acting_role(organization, actor, context)
    _require_may_manage(context, actor_role, membership)
    _require_may_grant(context, role, actor_role, organization)
    with transaction.atomic():
        owners = _lock_owners(organization)
        current = Membership.objects.filter(pk=membership.pk).first()
        if current is None:
            raise NotFound(gettext("Not found."))
        if current.role == role:
            return current
        if current.role == OrgRole.OWNER and owners <= 1:
            raise _last_owner_error()
        return membership_set(organization=organization, user=current.user, role=role, actor=actor)


def member_remove(*, membership: Membership, actor, context: OrgContext | None = None) -> None:
    """Remove a member from the org (ORG-5). Caller: `members.manage`; Owners to remove Owners.

    The last Owner cannot be removed (409). The person's account stays.
    """
    organization = membership.organization
    actor_role, context = _acting_role(organization, actor, context)
    _require_may_manage(context, actor_role, membership)
    with transaction.atomic():
        owners = _lock_owners(organization)
        current = Membership.objects.select_related("user", "organization").filter(pk=membership.pk).first()
        if current is None:
            raise NotFound(gettext("Not found."))
        if current.role == OrgRole.OWNER and owners <= 1:
            raise _last_owner_error()
        membership_remove(membership=current, actor=actor)
