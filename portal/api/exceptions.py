"""One error body for every 4xx of the API:

    {"error": {"code": "…", "message": "…", "details": {field: [messages]} | null}}

Domain errors from services, DRF's own exceptions and Django's Http404/PermissionDenied all end
here; nothing else in the API builds error responses. Two kinds of database errors are translated
here too, for the browser as well (`portal.middleware`):

- a lost race: the row a service read was deleted before its write (`DoesNotExist`, or Django's
  "Save with update_fields did not affect any rows") → 404; a constraint that a concurrent write
  won (`IntegrityError`) → 409;
- the database is unreachable (`OperationalError`/`InterfaceError`) → 503 with `Retry-After`.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from portal.errors import Conflict, DomainError, NotFound

logger = logging.getLogger(__name__)

# How long clients should wait before retrying during a database outage (seconds).
RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def unavailable_body() -> dict:
    return error_body("service_unavailable", _("The service is temporarily unavailable. Please try again in a moment."))


def race_as_domain_error(exc: BaseException) -> DomainError | None:
    """A database error that means "someone else changed this first", as the domain error to answer.

    Every service reads a row and then writes it; when a concurrent request deleted the row in
    between, Django raises `DoesNotExist` (a re-read) or a `DatabaseError` from
    `save(update_fields=…)`. Both mean the object is gone: 404, as if it had never been there.
    """
    if isinstance(exc, ObjectDoesNotExist) or (
        type(exc) is DatabaseError and str(exc).endswith("did not affect any rows.")
    ):
        return NotFound(_("Not found."))
    if isinstance(exc, IntegrityError):
        logger.warning("A concurrent change won a database constraint: %s", exc)
        return Conflict(_("This was changed at the same time by someone else. Please reload and try again."))
    return None


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": str(message), "details": details}}


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key in ("non_field_errors", "detail") else f"{key}: {text}"
    return str(detail)


def _plain(detail):
    if isinstance(detail, dict):
        return {key: _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def api_exception_handler(exc, context):
    if database_unavailable(exc):
        logger.error("Database unavailable: %r", exc)
        set_rollback()
        response = Response(unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    exc = race_as_domain_error(exc) or exc
    if isinstance(exc, DomainError):
        details = getattr(exc, "details", None)
        details = details if details is not None else ({exc.field: [exc.message]} if exc.field else None)
        retry_after = getattr(exc, "retry_after", None)  # TooManyRequests (429)
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return Response(error_body(exc.code, exc.message, details), status=exc.status, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: let Django log it and answer 500
    if isinstance(exc, exceptions.ValidationError):
        details = _plain(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
        body = error_body("invalid", _first_message(exc.detail) or _("Invalid input."), details)
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        body = error_body(exc.default_code, exc.detail)
        # Token clients are told how to authenticate; 401 instead of 403.
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = 'Token realm="api"'
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(detail, dict | list):
            body = error_body(code, _first_message(detail), _plain(detail))
        else:
            body = error_body(getattr(detail, "code", None) or code, detail)
    response.data = body
    return response
