"""ORG-5: an account whose initial password was set by a partner must change it first."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

ALLOWED_PREFIXES = ("/static/", "/i18n/", "/healthz", "/api/", "/media/")


class PasswordChangeRequiredMiddleware:
    """Every page but the password change (and logout) redirects there until it is done.

    The page asked for comes along as `next`, so the invitation link opened first is where the
    person lands after choosing a password. The API is left alone: a token client cannot follow a
    redirect to a form (known limit, see README).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            change_url = reverse("password_change")
            allowed = {change_url, reverse("logout")}
            if request.path not in allowed and not request.path.startswith(ALLOWED_PREFIXES):
                if request.method == "GET":
                    return redirect(f"{change_url}?{urlencode({'next': request.get_full_path()})}")
                return redirect(change_url)
        return self.get_response(request)
