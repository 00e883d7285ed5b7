"""Request-wide behaviour of the browser UI."""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils import translation

from .errors import DomainError, NotFound


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
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotFound):
            raise Http404(exception.message)
        return render(request, "portal/error.html", {"error": exception}, status=exception.status)
