"""Writes of technical caretaker delegations (DLG-1 … DLG-7).

Every state change is a `portal.state_machine.transition` (a conditional UPDATE) inside a
transaction, together with the project role grant it implies (DLG-4), the audit event in the
project org's trail (ORG-10) and what the participants are told (notifications, outbox emails).
Of two concurrent changes exactly one wins; the other gets `Conflict` (409).

Sides: the *project* side is the org owning the project, the *caretaker* side the agency. The
side that started a delegation may cancel it while pending; the other side accepts or declines.
Either side may revoke at any time (`delegation_revoke`).
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Organization
from portal.audit import audit_record
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TooManyRequests
from portal.hooks import on
from portal.state_machine import transition
from portal.tenancy import OrgContext, consent_refusal_message, org_context_for_organization
from projects.models import Project, ProjectRoleGrant
from projects.numbers import INVALID_MESSAGE as INVALID_PROJECT_NUMBER
from projects.numbers import is_project_number
from projects.roles import ProjectRole
from projects.services import project_grant_role, project_revoke_grant

from .models import Delegation, DelegationRequesterBlock
from .notifications import email_release, notify_side
from .selectors import release_delegations_for_token

Status = Delegation.Status
Direction = Delegation.Direction

# DLG-6: undecided delegations expire after this many days; DLG-5: warn this long before the end.
RESPONSE_DAYS = getattr(settings, "DELEGATION_RESPONSE_DAYS", 30)
EXPIRY_WARNING = timedelta(days=getattr(settings, "DELEGATION_EXPIRY_WARNING_DAYS", 7))
MAX_MESSAGE = 2000
MAX_PROJECTS_PER_RELEASE = 50
REQUEST_WINDOW = timedelta(hours=1)

AUDIT_FIELDS = ["status", "caretaker", "ends_at"]


# --- small helpers -----------------------------------------------------------------------------


def _state(delegation: Delegation) -> dict:
    return {
        "status": delegation.status,
        "caretaker": delegation.caretaker.public_id if delegation.caretaker_id else None,
        "invited_email": delegation.invited_email or None,
        "ends_at": delegation.ends_at.isoformat() if delegation.ends_at else None,
    }


def _audit(delegation: Delegation, action: str, *, actor, context=None, acting_organization=None, before=None) -> None:
    """`acting_organization` defaults to the org the actor acted from in `context`."""
    audit_record(
        action=f"delegation.{action}",
        target=delegation,
        actor=actor,
        organization=delegation.organization,
        acting_organization=acting_organization or (context.acting_organization if context else None),
        before=before,
        after=_state(delegation),
    )


def _clean_message(message: str | None) -> str:
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise InvalidInput(
            _("The message is too long (at most %(max)s characters).") % {"max": MAX_MESSAGE}, field="message"
        )
    return message


def _validate_ends_at(ends_at: datetime | None) -> None:
    if ends_at is None:
        return
    if timezone.is_naive(ends_at):
        raise InvalidInput(_("Give the end of access with a time zone."), field="ends_at")
    if ends_at <= timezone.now():
        raise InvalidInput(_("The end of access must be in the future."), field="ends_at")


def _side(delegation: Delegation, context: OrgContext) -> str:
    side = delegation.side_of(context.organization)
    if side is None:  # the restriction already hides it; a service called directly answers the same
        raise NotFound(_("Not found."))
    return side


def _duplicate_error() -> Conflict:
    return Conflict(
        _(
            "There already is an open request or an active delegation for this project and caretaker. "
            "Open it under Caretakers instead of starting another."
        ),
        code="duplicate",
    )


def _grant_access(delegation: Delegation, actor) -> None:
    """DLG-4: every member of the caretaker org holds the External role, until `ends_at`."""
    project_grant_role(
        project=delegation.project,
        organization=delegation.caretaker,
        role=ProjectRole.EXTERNAL,
        source=ProjectRoleGrant.Source.DELEGATION,
        expires_at=delegation.ends_at,
        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _remove_access(delegation: Delegation) -> None:
    grant = ProjectRoleGrant.objects.filter(
        project_id=delegation.project_id,
        organization_id=delegation.caretaker_id,
        source=ProjectRoleGrant.Source.DELEGATION,
    ).first()
    if grant is not None:
        project_revoke_grant(grant=grant)


def _refuse_if_expired(delegation: Delegation) -> None:
    """DLG-5/6 when acted on: a delegation past its time is recorded as expired and refused.

    The expiry is committed in its own transaction before the refusal is raised, so the
    refusal's rollback does not undo it.
    """
    if delegation.status in Delegation.OPEN_STATUSES and delegation.status_at(timezone.now()) == Status.EXPIRED:
        delegation_expire(delegation=delegation)
        raise Conflict(
            _("This delegation has expired. To work together again, start a new request or release."), code="expired"
        )


def _insert(delegation: Delegation) -> Delegation:
    """Insert guarded by the partial unique constraints: a concurrent duplicate becomes a 409."""
    try:
        with transaction.atomic():
            delegation.save(force_insert=True)
    except IntegrityError as error:
        raise _duplicate_error() from error
    return delegation


def _expire_stale_for(*, project: Project, caretaker: Organization | None = None, email: str = "") -> None:
    """Record expiries of this pair's delegations whose time passed, so they block nothing."""
    stale = Delegation.objects.due_to_expire().filter(project=project)
    stale = stale.filter(caretaker=caretaker) if caretaker is not None else stale.filter(invited_email=email)
    for delegation in stale.select_related("project", "organization", "caretaker"):
        delegation_expire(delegation=delegation)


# --- DLG-1: request by the caretaker -----------------------------------------------------------


def _normalized_number(number: str) -> str:
    number = (number or "").strip()
    if not is_project_number(number):
        raise InvalidInput(str(INVALID_PROJECT_NUMBER), field="project_number")
    return number.lower()


def project_by_number(number: str) -> Project | None:
    """The active project (of an active org) with this number, or None – archived, hidden and
    missing alike. Raises `InvalidInput` for a malformed number."""
    number = _normalized_number(number)
    return (
        Project.objects.select_related("organization")
        .filter(number__iexact=number, status=Project.Status.ACTIVE, organization__status=Organization.Status.ACTIVE)
        .first()
    )


def requests_per_hour() -> int:
    return int(getattr(settings, "DELEGATION_REQUESTS_PER_HOUR", 20))


def _require_request_budget(caretaker: Organization, now: datetime) -> None:
    """Item 3: at most `DELEGATION_REQUESTS_PER_HOUR` requests per requesting org and hour.

    Counted in the database (every request is a row, dropped ones included), under a lock on the
    requester's org row, so concurrent requests cannot overshoot and a cache outage changes nothing.
    """
    Organization.objects.select_for_update().filter(pk=caretaker.pk).first()
    window_start = now - REQUEST_WINDOW
    recent = Delegation.objects.filter(caretaker=caretaker, direction=Direction.REQUEST, created_at__gt=window_start)
    limit = requests_per_hour()
    if recent.count() < limit:
        return
    oldest = recent.order_by("created_at").values_list("created_at", flat=True)[max(0, recent.count() - limit)]
    retry_after = max(1, math.ceil((oldest + REQUEST_WINDOW - now).total_seconds()))
    raise TooManyRequests(
        _("Your organization sent too many delegation requests. Try again later."),
        code="too_many_requests",
        retry_after=retry_after,
    )


def _blocked(project_organization: Organization, requester: Organization) -> bool:
    return DelegationRequesterBlock.objects.filter(
        organization=project_organization, blocked_organization=requester
    ).exists()


def _expire_stale_requests_for_number(*, caretaker: Organization, number: str) -> None:
    stale = Delegation.objects.due_to_expire().filter(
        caretaker=caretaker, direction=Direction.REQUEST, requested_number=number
    )
    for delegation in stale.select_related("project", "organization", "caretaker"):
        delegation_expire(delegation=delegation)


@transaction.atomic
def delegation_request(
    *, context: OrgContext, project_number: str, message: str = "", ends_at: datetime | None = None, actor
) -> Delegation:
    """The caretaker org of `context` asks to take care of one project (DLG-1).

    Caller: an Owner/Admin of the caretaker org (`delegations.manage`). Only single projects, never
    an org. The project org's Owners/Admins are notified in the portal and by email.

    Anti-enumeration (issue 11, item 3): the answer is the same whether a project with this number
    exists or not. A missing, archived or hidden project – or one whose org blocked this requester
    – gives a *dropped* request: stored like any other (the requester lists it as pending, it
    expires after the response time), but without project, seen by and told to nobody. Rate
    limited per requesting org (`TooManyRequests`, 429).
    """
    context.require("delegations.manage")
    caretaker = context.organization
    message = _clean_message(message)
    _validate_ends_at(ends_at)
    number = _normalized_number(project_number)
    now = timezone.now()
    _require_request_budget(caretaker, now)
    project = project_by_number(number)
    if project is not None and project.organization_id == caretaker.pk:
        # The caretaker's own projects are no secret to it.
        raise InvalidInput(
            _("This project belongs to your own organization: you administer it already, no delegation needed."),
            field="project_number",
        )
    _expire_stale_requests_for_number(caretaker=caretaker, number=number)
    if project is not None:
        _expire_stale_for(project=project, caretaker=caretaker)
        # An active delegation means the caretaker already knows the project: no disclosure.
        if Delegation.objects.filter(project=project, caretaker=caretaker, status=Status.ACTIVE).exists():
            raise _duplicate_error()
    if Delegation.objects.filter(
        caretaker=caretaker, direction=Direction.REQUEST, requested_number=number, status=Status.PENDING
    ).exists():
        raise _duplicate_error()
    dropped = ""
    if project is None:
        dropped = Delegation.Dropped.UNKNOWN_PROJECT
    elif _blocked(project.organization, caretaker):
        dropped = Delegation.Dropped.BLOCKED
    delegation = _insert(
        Delegation(
            project=None if dropped else project,
            organization=None if dropped else project.organization,
            requested_number=number,
            dropped=dropped,
            caretaker=caretaker,
            direction=Direction.REQUEST,
            message=message,
            ends_at=ends_at,
            respond_by=now + timedelta(days=RESPONSE_DAYS),
            requested_by=actor,
            created_at=now,
        )
    )
    # A dropped request is recorded in no org's trail (support sees it in the admin).
    _audit(delegation, "requested", actor=actor, context=context)
    if not dropped:
        notify_side(delegation, organization=delegation.organization, event="requested")
    return delegation


# --- DLG-2: release by the project's org -------------------------------------------------------


@transaction.atomic
def delegation_release(
    *,
    context: OrgContext,
    project_numbers: list[str],
    email: str,
    ends_at: datetime | None = None,
    message: str = "",
    actor,
) -> list[Delegation]:
    """The org of `context` releases one or more of its projects to a caretaker's email (DLG-2).

    Caller: an Owner/Admin of the project org (`delegations.manage`). All projects or none; one
    email with one accept link goes to the address, in its owner's language where known.
    """
    context.require("delegations.manage")
    organization = context.organization
    message = _clean_message(message)
    _validate_ends_at(ends_at)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("Enter a valid email address."), field="email") from None
    numbers = list(
        dict.fromkeys((number or "").strip().lower() for number in project_numbers if (number or "").strip())
    )
    if not numbers:
        raise InvalidInput(_("Choose at least one project."), field="projects")
    if len(numbers) > MAX_PROJECTS_PER_RELEASE:
        raise InvalidInput(
            _("Release at most %(max)s projects at once.") % {"max": MAX_PROJECTS_PER_RELEASE}, field="projects"
        )
    projects = {
        project.number.lower(): project
        for project in Project.objects.select_related("organization").filter(
            organization=organization, number__in=numbers
        )
    }
    unknown = [number for number in numbers if number not in projects]
    if unknown:
        raise InvalidInput(
            _("Not a project of this organization: %(numbers)s.") % {"numbers": ", ".join(unknown)}, field="projects"
        )
    archived = [number for number in numbers if projects[number].status != Project.Status.ACTIVE]
    if archived:
        raise InvalidInput(
            _("Archived projects cannot be released: %(numbers)s. Restore them first.")
            % {"numbers": ", ".join(archived)},
            field="projects",
        )

    now = timezone.now()
    token = secrets.token_urlsafe(32)
    delegations = []
    for number in numbers:
        project = projects[number]
        _expire_stale_for(project=project, email=email)
        if Delegation.objects.filter(
            project=project, invited_email=email, caretaker__isnull=True, status=Status.PENDING
        ).exists():
            raise Conflict(
                _(
                    "Project %(number)s was already released to this address and waits for acceptance. "
                    "Withdraw that release first to send a new one."
                )
                % {"number": project.number},
                code="duplicate",
            )
        delegation = _insert(
            Delegation(
                project=project,
                organization=organization,
                requested_number=project.number.lower(),
                direction=Direction.RELEASE,
                invited_email=email,
                token=token,
                message=message,
                ends_at=ends_at,
                respond_by=now + timedelta(days=RESPONSE_DAYS),
                requested_by=actor,
                created_at=now,
            )
        )
        _audit(delegation, "released", actor=actor, context=context)
        delegations.append(delegation)
    email_release(delegations, actor=actor)
    return delegations


def delegation_release_accept(*, token: str, user, caretaker: Organization) -> list[Delegation]:
    """The addressee accepts a release for `caretaker`, an org it is Owner/Admin of (DLG-2).

    Every still pending project of the release becomes active; a pending request of the same
    caretaker for a project is superseded (cancelled). Refused with 409 where the caretaker
    already holds an open delegation for a project or nothing is pending any more.
    """
    delegations = release_delegations_for_token(token=token, user=user)
    try:
        context = org_context_for_organization(user, caretaker)
    except NotFound:
        context = None
    if context is None or caretaker.status != Organization.Status.ACTIVE or not context.has("delegations.manage"):
        raise InvalidInput(_("Choose an organization in which you are Owner or Admin."), field="organization")
    if any(delegation.organization_id == caretaker.pk for delegation in delegations):
        raise InvalidInput(
            _("Your organization owns this project; choose the caretaker organization."), field="organization"
        )
    for delegation in delegations:  # record what expired before the addressee came
        if delegation.status == Status.PENDING and delegation.status_at(timezone.now()) == Status.EXPIRED:
            delegation_expire(delegation=delegation)
    accepted = []
    with transaction.atomic():
        for delegation in delegations:
            delegation.refresh_from_db()
            if delegation.status != Status.PENDING:
                continue
            # The caretaker's own pending request for the project is superseded by the release.
            for superseded in Delegation.objects.select_related("project", "organization", "caretaker").filter(
                project=delegation.project, caretaker=caretaker, status=Status.PENDING, direction=Direction.REQUEST
            ):
                before = _state(superseded)
                try:
                    transition(
                        superseded, Status.CANCELLED, sources={Status.PENDING}, ended_at=timezone.now(), ended_by=user
                    )
                except Conflict:
                    continue  # decided meanwhile; the duplicate check below has the last word
                _audit(superseded, "cancelled", actor=user, acting_organization=caretaker, before=before)
            _expire_stale_for(project=delegation.project, caretaker=caretaker)
            if Delegation.objects.filter(
                project=delegation.project, caretaker=caretaker, status__in=Delegation.OPEN_STATUSES
            ).exists():
                raise _duplicate_error()
            before = _state(delegation)
            try:
                with transaction.atomic():
                    transition(
                        delegation,
                        Status.ACTIVE,
                        sources={Status.PENDING},
                        caretaker=caretaker,
                        decided_by=user,
                        decided_at=timezone.now(),
                    )
            except IntegrityError as error:
                raise _duplicate_error() from error
            except Conflict:
                continue  # withdrawn or expired meanwhile: the other projects still count
            _grant_access(delegation, user)
            _audit(delegation, "accepted", actor=user, acting_organization=caretaker, before=before)
            notify_side(delegation, organization=delegation.organization, event="accepted")
            accepted.append(delegation)
        if not accepted:
            current = delegations[0]
            current.refresh_from_db()
            raise Conflict(
                _("This release is no longer open: the status is “%(status)s”.")
                % {"status": current.get_current_status_display()},
                code="invalid_transition",
            )
    return accepted


def delegation_release_decline(*, token: str, user) -> list[Delegation]:
    """The addressee declines every pending project of a release (DLG-2)."""
    delegations = release_delegations_for_token(token=token, user=user)
    declined = []
    with transaction.atomic():
        for delegation in delegations:
            if delegation.current_status != Status.PENDING:
                continue
            before = _state(delegation)
            try:
                transition(
                    delegation, Status.DECLINED, sources={Status.PENDING}, decided_by=user, decided_at=timezone.now()
                )
            except Conflict:
                continue
            _audit(delegation, "declined", actor=user, before=before)
            notify_side(delegation, organization=delegation.organization, event="declined")
            declined.append(delegation)
    if not declined:
        raise Conflict(
            _("This release is no longer open. Ask the project's organization to release the project again."),
            code="invalid_transition",
        )
    return declined


# --- decisions in the portal -------------------------------------------------------------------


def delegation_accept(
    *, delegation: Delegation, context: OrgContext, actor, ends_at: datetime | None = None
) -> Delegation:
    """The project org accepts a caretaker's request (DLG-1), optionally until `ends_at`.

    Caller: Owner/Admin of the project org (`requests.decide`). A release is accepted by its
    addressee through the link instead (`delegation_release_accept`).
    """
    context.require("requests.decide")
    side = _side(delegation, context)
    if delegation.direction != Direction.REQUEST:
        raise Conflict(
            _("A released project is accepted by the caretaker through the link in its email."), code="wrong_side"
        )
    if side != "project":
        raise Conflict(
            _("Only the project's organization can accept this request. Wait for its decision, or withdraw it."),
            code="wrong_side",
        )
    _validate_ends_at(ends_at)
    _refuse_if_expired(delegation)
    with transaction.atomic():
        before = _state(delegation)
        changes = {"decided_by": actor, "decided_at": timezone.now()}
        if ends_at is not None:
            changes["ends_at"] = ends_at
        transition(delegation, Status.ACTIVE, sources={Status.PENDING}, **changes)
        _grant_access(delegation, actor)
        _audit(delegation, "accepted", actor=actor, context=context, before=before)
        notify_side(delegation, organization=delegation.caretaker, event="accepted")
    return delegation


def delegation_decline(*, delegation: Delegation, context: OrgContext, actor) -> Delegation:
    """The project org declines a caretaker's request (DLG-1). Caller: `requests.decide`."""
    context.require("requests.decide")
    side = _side(delegation, context)
    if delegation.direction != Direction.REQUEST or side != "project":
        raise Conflict(_("Only the side that was asked can decline."), code="wrong_side")
    _refuse_if_expired(delegation)
    with transaction.atomic():
        before = _state(delegation)
        transition(delegation, Status.DECLINED, sources={Status.PENDING}, decided_by=actor, decided_at=timezone.now())
        _audit(delegation, "declined", actor=actor, context=context, before=before)
        notify_side(delegation, organization=delegation.caretaker, event="declined")
    return delegation


@transaction.atomic
def delegation_block_requester(*, delegation: Delegation, context: OrgContext, actor) -> DelegationRequesterBlock:
    """The project org blocks the caretaker of an incoming request (issue 11, item 3).

    Caller: `requests.decide` – a consent, so the org's own Owners/Admins only. Every pending
    request of that caretaker for this org's projects is declined (the requester is told as of any
    decline); its later requests are dropped silently. Blocking twice is harmless.
    """
    context.require("requests.decide")
    side = _side(delegation, context)
    if delegation.direction != Direction.REQUEST or side != "project":
        raise Conflict(
            _("Only the organization that was asked can block the requester. You can withdraw your request."),
            code="wrong_side",
        )
    organization = context.organization
    requester = delegation.caretaker
    block, created = DelegationRequesterBlock.objects.get_or_create(
        organization=organization, blocked_organization=requester, defaults={"created_by": actor}
    )
    if created:
        audit_record(
            action="delegation_requester.blocked",
            target=block,
            actor=actor,
            organization=organization,
            acting_organization=context.acting_organization,
            after={"blocked_organization": requester.public_id},
        )
    pending = Delegation.objects.select_related("project", "organization", "caretaker").filter(
        organization=organization, caretaker=requester, direction=Direction.REQUEST, status=Status.PENDING
    )
    now = timezone.now()
    for open_request in pending:
        if open_request.status_at(now) == Status.EXPIRED:
            continue  # the expiry job records it
        before = _state(open_request)
        try:
            transition(open_request, Status.DECLINED, sources={Status.PENDING}, decided_by=actor, decided_at=now)
        except Conflict:
            continue
        _audit(open_request, "declined", actor=actor, context=context, before=before)
        notify_side(open_request, organization=requester, event="declined")
    return block


@transaction.atomic
def delegation_unblock_requester(*, block: DelegationRequesterBlock, context: OrgContext, actor) -> None:
    """Lift a block: the requester's next requests reach the org again. Caller: `requests.decide`."""
    context.require("requests.decide")
    if block.organization_id != context.organization.pk:
        raise NotFound(_("Not found."))
    audit_record(
        action="delegation_requester.unblocked",
        target=block,
        actor=actor,
        organization=context.organization,
        acting_organization=context.acting_organization,
        before={"blocked_organization": block.blocked_organization.public_id},
    )
    DelegationRequesterBlock.objects.filter(pk=block.pk).delete()


def delegation_cancel(*, delegation: Delegation, context: OrgContext, actor) -> Delegation:
    """The side that started a pending delegation withdraws it. Caller: `delegations.manage`."""
    context.require("delegations.manage")
    side = _side(delegation, context)
    if side != delegation.initiator_side:
        raise Conflict(_("Only the side that started it can withdraw it; you can decline it."), code="wrong_side")
    _refuse_if_expired(delegation)
    with transaction.atomic():
        before = _state(delegation)
        transition(delegation, Status.CANCELLED, sources={Status.PENDING}, ended_by=actor, ended_at=timezone.now())
        _audit(delegation, "cancelled", actor=actor, context=context, before=before)
        if delegation.direction == Direction.REQUEST:
            notify_side(delegation, organization=delegation.organization, event="cancelled")
    return delegation


def delegation_revoke(*, delegation: Delegation, context: OrgContext, actor) -> Delegation:
    """Either side ends a delegation at any time (DLG-5). Caller: `delegations.manage`.

    Active → revoked (the caretaker's access ends at once). Pending → cancelled for the side that
    started it, declined for the other. The state the caller saw decides which transition is
    attempted, so a revoke racing an accept has exactly one winner.
    """
    context.require("delegations.manage")
    side = _side(delegation, context)
    _refuse_if_expired(delegation)
    seen = delegation.status
    if seen == Status.PENDING:
        if side == delegation.initiator_side:
            return delegation_cancel(delegation=delegation, context=context, actor=actor)
        if delegation.direction == Direction.RELEASE:
            # The caretaker of a pending release is not known yet, so it cannot be on this side.
            raise Conflict(_("Only the side that was asked can decline."), code="wrong_side")
        if not context.has("requests.decide"):
            # Revoking is allowed, but for a pending request it would be a decline – the customer's
            # own consent (issue 11, item 4): refused for this state, like any other transition.
            raise Conflict(consent_refusal_message(), code="customer_decides")
        return delegation_decline(delegation=delegation, context=context, actor=actor)
    with transaction.atomic():
        before = _state(delegation)
        transition(
            delegation, Status.REVOKED, sources={seen} & {Status.ACTIVE}, ended_by=actor, ended_at=timezone.now()
        )
        _remove_access(delegation)
        _audit(delegation, "revoked", actor=actor, context=context, before=before)
        other = delegation.caretaker if side == "project" else delegation.organization
        notify_side(delegation, organization=other, event="revoked")
    return delegation


def delegation_end_by_support(*, delegation: Delegation, actor) -> Delegation:
    """Support ends a delegation from the admin (DLG-7): pending → cancelled, active → revoked."""
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(_("Only support staff can do this."))
    delegation.refresh_from_db()
    if delegation.status_at(timezone.now()) == Status.EXPIRED and delegation.status in Delegation.OPEN_STATUSES:
        delegation_expire(delegation=delegation)
        return delegation
    with transaction.atomic():
        before = _state(delegation)
        if delegation.status == Status.PENDING:
            transition(delegation, Status.CANCELLED, sources={Status.PENDING}, ended_by=actor, ended_at=timezone.now())
            _audit(delegation, "cancelled", actor=actor, before=before)
        else:
            transition(delegation, Status.REVOKED, sources={Status.ACTIVE}, ended_by=actor, ended_at=timezone.now())
            _remove_access(delegation)
            _audit(delegation, "revoked", actor=actor, before=before)
            notify_side(delegation, organization=delegation.organization, event="revoked")
            notify_side(delegation, organization=delegation.caretaker, event="revoked")
    return delegation


# --- DLG-5/6: expiry ---------------------------------------------------------------------------


def delegation_expire(*, delegation: Delegation) -> bool:
    """Record that an open delegation's time has passed. Returns False if it was no longer open.

    Idempotent: of two concurrent calls (the job and a request acting on it) one records it.
    Access already ended at `ends_at` through the grant's `expires_at`; this removes the grant and
    tells the participants.
    """
    now = timezone.now()
    with transaction.atomic():
        was = delegation.status
        before = _state(delegation)
        # Only what is due according to the stored row (not a stale in-memory copy) expires.
        due = Q(status=Status.PENDING, respond_by__lte=now) | Q(ends_at__lte=now)
        if not Delegation.objects.filter(due, pk=delegation.pk, status__in=Delegation.OPEN_STATUSES).exists():
            return False
        try:
            transition(delegation, Status.EXPIRED, sources=set(Delegation.OPEN_STATUSES), ended_at=now)
        except Conflict:
            return False
        if delegation.caretaker_id:
            _remove_access(delegation)
        _audit(delegation, "expired", actor=None, before=before)
        if was == Status.ACTIVE:
            notify_side(delegation, organization=delegation.organization, event="expired")
            notify_side(delegation, organization=delegation.caretaker, event="expired")
        else:
            initiator = delegation.caretaker if delegation.direction == Direction.REQUEST else delegation.organization
            notify_side(delegation, organization=initiator, event="expired")
    return True


def delegation_warn_expiry(*, delegation: Delegation) -> bool:
    """Warn both sides once that an active delegation ends within 7 days (DLG-5).

    The conditional update on `expiry_warned_at` makes it exactly once, also when two job runs
    overlap; the email dedupe keys guard the outbox as well.
    """
    with transaction.atomic():
        claimed = Delegation.objects.filter(
            pk=delegation.pk, status=Status.ACTIVE, expiry_warned_at__isnull=True, ends_at__gt=timezone.now()
        ).update(expiry_warned_at=timezone.now())
        if not claimed:
            return False
        notify_side(delegation, organization=delegation.organization, event="expiring")
        notify_side(delegation, organization=delegation.caretaker, event="expiring")
    return True


def delegation_process_expiries(*, limit: int = 1000) -> dict:
    """The periodic job (Celery beat): record expiries and send the 7-day warnings. Idempotent."""
    now = timezone.now()
    related = ("project", "organization", "caretaker")
    expired = 0
    for delegation in Delegation.objects.due_to_expire(now).select_related(*related).order_by("id")[:limit]:
        expired += delegation_expire(delegation=delegation)
    warned = 0
    due_for_warning = Delegation.objects.filter(
        status=Status.ACTIVE, expiry_warned_at__isnull=True, ends_at__gt=now, ends_at__lte=now + EXPIRY_WARNING
    )
    for delegation in due_for_warning.select_related(*related).order_by("ends_at", "id")[:limit]:
        warned += delegation_warn_expiry(delegation=delegation)
    return {"expired": expired, "warned": warned}


# --- when an org is archived (ORG-7) ----------------------------------------------------------


@on("organization.archived")
def _end_delegations_of_archived_organization(*, organization, actor, **kwargs) -> None:
    """An archived org neither has projects cared for nor cares for others' projects any more."""
    open_delegations = Delegation.objects.select_related("project", "organization", "caretaker").filter(
        Q(organization=organization) | Q(caretaker=organization), status__in=Delegation.OPEN_STATUSES
    )
    for delegation in open_delegations:
        _end_for_archive(delegation, actor=actor)


@transaction.atomic
def _end_for_archive(delegation: Delegation, *, actor) -> None:
    before = _state(delegation)
    target = Status.CANCELLED if delegation.status == Status.PENDING else Status.REVOKED
    try:
        transition(
            delegation,
            target,
            sources={delegation.status},
            ended_at=timezone.now(),
            ended_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    except Conflict:
        return
    if target == Status.REVOKED:
        _remove_access(delegation)
    _audit(delegation, "revoked" if target == Status.REVOKED else "cancelled", actor=actor, before=before)
