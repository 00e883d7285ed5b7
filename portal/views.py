"""Platform pages and the base classes every browser view of the apps builds on."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView
from django.views.i18n import set_language as django_set_language

from organizations.models import Organization

from .errors import DomainError, NotFound
from .models import Notification
from .tenancy import OrgContext, Scope, memberships_of, org_context_for, organizations_for_user, restrict

logger = logging.getLogger(__name__)


# --- base classes for app views --------------------------------------------------------------


class OrgScopedMixin(LoginRequiredMixin):
    """Every page under `/o/<org>/…`: resolves the org context before the handler runs.

    Anonymous → login redirect; a foreign or unknown org → 404; a missing capability → 403 (or
    404 for partner-only areas, ORG-6). `self.org` is the OrgContext; `get_queryset()` is the
    model's tenancy restriction, so views never filter by organization themselves.
    """

    capability: str | None = "organization.view"
    org_url_kwarg = "org"
    restriction_action = "view"
    org: OrgContext

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.org = org_context_for(request.user, kwargs[self.org_url_kwarg])
        request.org_context = self.org
        if self.capability:
            self.org.require(self.capability)
        return super().dispatch(request, *args, **kwargs)

    @property
    def scope(self) -> Scope:
        return Scope(user=self.request.user, context=self.org)

    def get_queryset(self):
        return restrict(super().get_queryset(), self.scope, self.restriction_action)


class UserScopedMixin(LoginRequiredMixin):
    """Pages that are not inside one org (the project list across orgs, notifications)."""

    restriction_action = "view"

    @property
    def scope(self) -> Scope:
        return Scope(user=self.request.user, context=None)

    def get_queryset(self):
        return restrict(super().get_queryset(), self.scope, self.restriction_action)


class DomainErrorFormMixin:
    """Run the service in `perform(form)`; a DomainError becomes a form error, not a 500."""

    success_message: str | None = None

    def perform(self, form):  # pragma: no cover - abstract
        raise NotImplementedError

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except DomainError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url(result) if result is not None else self.get_success_url())


class DomainErrorActionMixin:
    """A state-change view: POST only, one service call in `perform(obj)`, domain errors
    translated here once.

    `get_action_object()` loads the object (404 outside the user's reach, before any service
    runs); `perform(obj)` calls the service and may return the success message (else
    `success_message`). A DomainError becomes an error message on the page the user returns to
    (`get_error_url`), success a success message (`get_success_url`); NotFound stays a 404. With
    `follow_next`, a `next` field that names a page of ours wins (a button on another page).
    Plain requests get a redirect; htmx requests an `HX-Redirect` to the same page, so htmx loads
    the whole page instead of swapping it into the button's target.
    """

    http_method_names = ["post"]
    success_message = ""
    follow_next = False

    def get_action_object(self):
        return self.get_object()

    def perform(self, obj) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_success_url(self, obj) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_error_url(self, obj) -> str:
        return self.get_success_url(obj)

    def post(self, request, *args, **kwargs):
        obj = self.get_action_object()
        try:
            message = self.perform(obj)
        except NotFound:
            raise
        except DomainError as error:
            messages.error(request, error.message)
            return self._redirect(self.get_error_url(obj))
        messages.success(request, message or self.success_message)
        return self._redirect(self.get_success_url(obj))

    def _redirect(self, url: str):
        next_url = self.request.POST.get("next", "") if self.follow_next else ""
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={self.request.get_host()}):
            url = next_url
        if getattr(self.request, "htmx", False):
            return HttpResponse(status=204, headers={"HX-Redirect": resolve_url(url)})
        return redirect(url)


# --- platform pages ----------------------------------------------------------------------------


@never_cache
def home(request):
    """Signed-in users land in their first organization; others on the login page."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    from projects.selectors import user_has_projects  # end customers without an org (PRJ-3)

    # Every org a user reaches (own, or as partner staff) comes through a membership: a user with
    # none (a grantee of single projects) skips the org reads. Own active orgs come first (a
    # partner lands in its partner org), then orgs reached as partner staff.
    memberships = memberships_of(request.user)
    own_active = [m.organization_id for m in memberships if m.organization_active]
    if own_active:
        organizations = Organization.objects.filter(pk__in=own_active)
    elif memberships:
        organizations = organizations_for_user(request.user)
    else:
        organizations = Organization.objects.none()
    public_id = organizations.order_by("name", "id").values_list("public_id", flat=True).first()
    if public_id is not None:
        return redirect("organization-dashboard", org=public_id)
    if user_has_projects(request.user, memberships=memberships):
        return redirect("project-list")
    return render(request, "portal/home.html")


@require_GET  # read-only: a POST is 405, not a second way to read
def organization_switcher(request):
    """htmx: the orgs matching `q` as you type (at most 20, own orgs first) – two queries whether
    a partner has 3 or 10,000 customers (ORG-4). Links go to the org in the URL: no session state."""
    from organizations.selectors import switcher_organizations

    if not request.user.is_authenticated:
        return JsonResponse({"error": "login required"}, status=401)
    query = request.GET.get("q", "").strip()[:100]
    organizations, more = switcher_organizations(user=request.user, search=query)
    return render(
        request, "portal/_switcher_results.html", {"organizations": organizations, "query": query, "more": more}
    )


class MenuBadgesView(OrgScopedMixin, View):
    """htmx, after every org page: the red badges of its menu as out-of-band swaps into the empty
    slots the menu left (`context_processors.organization_menu`). Any member may ask; each count
    is of what the acting role sees."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        from .context_processors import menu_badges

        response = render(request, "portal/_menu_badges.html", {"badges": menu_badges(self.org)})
        response["Cache-Control"] = "private, no-store"
        return response


class NotificationListView(UserScopedMixin, ListView):
    model = Notification
    template_name = "portal/notifications.html"
    paginate_by = 25

    def get_queryset(self):
        return super().get_queryset().select_related("organization").order_by("-created_at", "-id")


@require_POST
def notifications_mark_read(request):
    if request.user.is_authenticated:
        restrict(Notification.objects.all(), Scope(user=request.user)).filter(read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return redirect("notifications")


@require_POST
def set_language(request):
    """Django's set_language, plus saving the choice on the signed-in user."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and check_for_language(language) and language in dict(settings.LANGUAGES):
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        request.POST = request.POST.copy()
        request.POST["next"] = "/"
    return django_set_language(request)


@never_cache
def healthz(request):
    """200 when the database (and Redis, where configured) answer; 503 otherwise (PLT-6)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy
        logger.warning("healthz: database check failed: %r", error)
        checks["database"] = "error"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            logger.warning("healthz: redis check failed: %r", error)
            checks["redis"] = "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
