"""Template helpers of the projects app (pages and emails)."""

from django import template
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from projects.roles import ProjectAction, ProjectRole

register = template.Library()


@register.filter
def project_role_label(role: str) -> str:
    """The role's name in the active language ("viewer" → "Viewer" / "Betrachter")."""
    try:
        return str(ProjectRole(role).label)
    except ValueError:
        return role or ""


@register.filter
def project_action_label(action: str) -> str:
    try:
        return str(ProjectAction(action).label)
    except ValueError:
        return action or ""


@register.simple_tag
def choose_password_url(user_id) -> str:
    """A password-reset link for the account, made when the email is rendered (PRJ-3).

    The token is created at send time, so it is never stored in the outbox, and it stops working
    once a password has been chosen (Django's token covers the password hash).
    """
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return ""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.PORTAL_BASE_URL}{path}"


@register.filter
def parse_iso_datetime(value):
    """An ISO timestamp from an email's JSON context back to a datetime (for the `date` filter)."""
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(value) if value else None
    return timezone.localtime(parsed) if parsed else None
