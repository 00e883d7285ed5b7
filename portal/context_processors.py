"""Values every page's layout needs: the acting org, the switcher and the unread count."""

from __future__ import annotations

from django.conf import settings


def portal(request) -> dict:
    user = getattr(request, "user", None)
    context = {
        "org_context": getattr(request, "org_context", None),
        "portal_languages": settings.LANGUAGES,
        "unread_notifications": 0,
    }
    if user is not None and user.is_authenticated:
        # One cheap COUNT on an indexed column; evaluated lazily by the template.
        context["unread_notifications"] = lambda: user.notifications.filter(read_at__isnull=True).count()
    return context
