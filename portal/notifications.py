"""In-portal notifications (PLT-4): a registry of message kinds rendered in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from .models import Notification

# kind -> lazily translated format string with {named} params. Apps register their kinds.
REGISTRY: dict[str, str] = {}


def notification_kind(kind: str, message) -> None:
    """Register a message (a gettext_lazy string with {placeholders}) for a notification kind."""
    REGISTRY[kind] = message


def render_notification(kind: str, params: dict) -> str:
    template = REGISTRY.get(kind)
    if template is None:
        return _("Notification")
    try:
        return str(template).format(**params)
    except (KeyError, IndexError):
        return str(template)


def notification_create_many(
    *, recipients: Iterable, kind: str, params: dict, organization=None, url: str = ""
) -> list[Notification]:
    """Create one notification per recipient with a single INSERT."""
    rows = [
        Notification(recipient=user, organization=organization, kind=kind, params=params, url=url)
        for user in recipients
    ]
    return Notification.objects.bulk_create(rows)
