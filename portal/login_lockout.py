"""Login lockout on top of django-axes (PLT-5).

Two limits, both over the failures of the last `AXES_COOLOFF_TIME`:
- an account is locked for one address after `AXES_FAILURE_LIMIT` failures of that account from
  that address (axes' combination `[["username", "ip_address"]]`), so failures elsewhere – or
  made-up names from a shared office address – do not lock anyone else out;
- an address as a whole is locked after `AXES_IP_FAILURE_LIMIT` failures from it, whatever the
  names (password spraying across many accounts).

axes has a single failure limit (its maintainers point to a custom handler for a second one), so
`PortalAxesHandler` counts the address' failures from axes' own `AccessAttempt` rows: no second
store, nothing that fails with the cache.

`lockout_response` answers a lockout with the API's JSON error shape under `/api/` and with the
friendly page elsewhere; both carry `Retry-After`.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The account name axes counts by: the email as typed, compared case-insensitively."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return username.strip().lower() if isinstance(username, str) else username


class PortalAxesHandler(AxesDatabaseHandler):
    """axes' database handler with a second, higher limit per address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        recent = AccessAttempt.objects.filter(
            attempt_time__gte=get_cool_off_threshold(request), ip_address=request.axes_ip_address
        )
        by_address = recent.aggregate(total=Sum("failures_since_start"))["total"] or 0
        username = get_client_username(request, credentials)
        by_account = 0
        if username is not None:
            by_account = recent.filter(username=username).aggregate(total=Sum("failures_since_start"))["total"] or 0
        if by_address >= settings.AXES_IP_FAILURE_LIMIT:
            # axes compares one number with one limit: an address over its own limit counts as locked.
            return max(by_account, get_failure_limit(request, credentials))
        return by_account


def retry_after_seconds(request: HttpRequest) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """What a locked-out login gets: 429 with `Retry-After`, JSON for the API, a page otherwise."""
    from portal.api.exceptions import error_body

    seconds = retry_after_seconds(request)
    minutes = max(1, -(-seconds // 60))
    if request.path.startswith("/api/"):
        message = _("Too many failed logins. Try again in %(minutes)s minutes.") % {"minutes": minutes}
        response = JsonResponse(error_body("locked_out", message), status=429)
    else:
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE, {"retry_minutes": minutes}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
