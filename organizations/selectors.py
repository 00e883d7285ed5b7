"""Reads of organizations: tenancy restrictions and lists."""
from __future__ import annotations

import hashlib

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext

from portal.errors import NotFound
from portal.tenancy import Scope, restriction

from .models import Invitation, Membership, Organization
from .roles import ROLE_RANK

# --- ORG-5: members and invitations ---------------------------------------------------------------


@restriction(Membership)
def membership_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    """Inside an org: its members. Outside any org: the user's own memberships."""
    if scope.context is not None:
        return queryset.filter(organization=scope.context.organization)
    return queryset.filter(user=scope.user, organization__status=Organization.Status.ACTIVE)


@restriction(Invitation)
def invitation_restrict(queryset: QuerySet, *, scope: Scope, action: str = "view") -> QuerySet:
    """Inside an org: the invitations into it. Outside any org: those addressed to the user."""
    if scope.context is not None:
        return queryset.filter(organization=scope.context.organization)
    email = (getattr(scope.user, "email", "") or "").lower()
    return queryset.filter(email=email, organization__status=Organization.Status.ACTIVE) if email else queryset.none()


ROLE_ORDER = Case(
    *[When(role=role, then=Value(-rank)) for role, rank in ROLE_RANK.items()], output_field=IntegerField()
)


def member_list(*, queryset: QuerySet, search: str = "") -> QuerySet:
    """Members of the org, strongest role first, then by name; `search` matches name or email."""
    search = (search or "").strip()[:100]
    if search:
        queryset = queryset.filter(
            Q(user__email__icontains=search) | Q(user__first_name__icontains=search) | Q(user__last_name__icontains=search)
        )
    return queryset.select_related("user").annotate(role_order=ROLE_ORDER).order_by(
        "role_order", "user__last_name", "user__first_name", "user__email", "id"
    )


def invitation_list(*, queryset: QuerySet, status: str | None = None, search: str = "") -> QuerySet:
    """Invitations of the org with their status as of now, newest first."""
    rows = queryset.with_current_status().select_related("invited_by")
    if status:
        rows = rows.filter(current_status=status)
    search = (search or "").strip()[:100]
    if search:
        rows = rows.filter(email__icontains=search)
    return rows.order_by("-created_at", "-id")


def invitation_for_token(*, token: str) -> Invitation:
    """The invitation of a link, whatever its state; `NotFound` for an unknown or malformed token."""
    token = (token or "").strip()
    invitation = None
    if token and len(token) <= 100:
        invitation = (
            Invitation.objects.with_current_status()
            .select_related("organization", "invited_by")
            .filter(token_hash=hashlib.sha256(token.encode()).hexdigest())
            .first()
        )
    if invitation is None or invitation.organization.status != Organization.Status.ACTIVE:
        raise NotFound(gettext("This invitation link is not valid."), code="invalid_link")
    return invitation


def invitations_for_user(*, user) -> QuerySet:
    """Open invitations addressed to the signed-in user's email (shown on the home page)."""
    return invitation_restrict(Invitation.objects.open(), scope=Scope(user=user)).select_related("organization")
