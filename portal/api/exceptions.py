"""One error body for every 4xx of the API:

    {"error": {"code": "…", "message": "…", "details": {field: [messages]} | null}}

Domain errors from services, DRF's own exceptions and Django's Http404/PermissionDenied all end
here; nothing else in the API builds error responses.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from portal.errors import DomainError


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
    if isinstance(exc, DomainError):
        details = {exc.field: [exc.message]} if exc.field else None
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
