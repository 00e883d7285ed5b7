"""Request-wide behaviour: the user's language, domain errors on pages, database outages, 404/500.

A database outage (`OperationalError`/`InterfaceError`) answers 503 with `Retry-After` in one
place, `database_unavailable_response`: the API's JSON error shape under `/api/`, the standalone
`503.html` (rendered without a request context, so no context processor touches the database)
everywhere else. Views reach it through `DatabaseUnavailableMiddleware.process_exception`; errors
raised earlier (e.g. loading the session in a middleware) reach it through `handler500`.
"""

from __future__ import annotations

import logging
import sys

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.views import defaults

from .api.exceptions import (
    RETRY_AFTER_SECONDS,
    database_unavailable,
    error_body,
    race_as_domain_error,
    unavailable_body,
)
from .errors import DomainError, NotFound

logger = logging.getLogger(__name__)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def database_unavailable_response(request) -> HttpResponse:
    if _is_api(request):
        response = JsonResponse(unavailable_body(), status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render({}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """503 instead of a 500 page while the database cannot be reached; nothing to reset afterwards.

    Django closes a connection that raised, and `CONN_HEALTH_CHECKS` re-checks a persistent one
    before the next request uses it, so the first request after the database is back succeeds.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        logger.error("Database unavailable: %r", exception)
        return database_unavailable_response(request)


def page_not_found(request, exception=None):
    """handler404: the API's error shape under `/api/` (e.g. an id out of range), the page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", translation.gettext("Not found.")), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: runs while the exception is handled, so an outage raised outside a view is seen here."""
    if database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    if _is_api(request):
        return JsonResponse(
            error_body(
                "server_error", translation.gettext("Something went wrong on our side. Please try again later.")
            ),
            status=500,
        )
    return defaults.server_error(request)


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the cookie and `Accept-Language` (PLT-1).

    Placed after AuthenticationMiddleware. Anonymous visitors get Django's LocaleMiddleware
    behaviour (language cookie, then `Accept-Language`). The language switcher saves the choice
    on the user (`portal.views.set_language`), so both always agree.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "language", ""):
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class DomainErrorMiddleware:
    """Translate a service's DomainError that a browser view did not handle into an error page.

    Form views turn errors into form errors themselves (`portal.views.DomainErrorFormMixin`);
    this is the one place for everything else: 404 for NotFound, the error's status otherwise.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            return None
        exception = race_as_domain_error(exception) or exception
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            raise Http404(exception.message)
        return render(request, "portal/error.html", {"error": exception}, status=exception.status)
