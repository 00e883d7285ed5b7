"""In-portal notifications (PLT-4): a registry of message kinds rendered in the reader's language."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.utils.translation import gettext as _

from .models import Notification

# kind -> lazily translated format string with {named} params. Apps register their kinds.
REGISTRY: dict[str, str] = {}
# kind -> the params that hold a day ("2027-06-30"), shown in the reader's format when rendered
DATE_PARAMS: dict[str, frozenset[str]] = {}


def notification_kind(kind: str, message, *, dates: tuple[str, ...] = ()) -> None:
    """Register a message (a gettext_lazy string with {placeholders}) for a notification kind.
    `dates` names params stored as ISO days: the reader sees them as "30 Jun 2027" / "30. Juni 2027"."""
    REGISTRY[kind] = message
    DATE_PARAMS[kind] = frozenset(dates)


def _localized(kind: str, params: dict) -> dict:
    from .templatetags.ui import day

    names = DATE_PARAMS.get(kind)
    if not names:
        return params
    params = dict(params)
    for name in names & params.keys():
        try:
            params[name] = day(datetime.date.fromisoformat(str(params[name])))
        except ValueError:
            pass  # stored before dates were ISO days: shown as stored
    return params


def render_notification(kind: str, params: dict) -> str:
    template = REGISTRY.get(kind)
    if template is None:
        return _("Notification")
    try:
        return str(template).format(**_localized(kind, params))
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
