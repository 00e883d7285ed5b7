"""Base classes of every API view: they resolve the tenant and restrict querysets.

- `ScopedViewSet`: for routes under `/api/v1/organizations/{org}/…` (set `org_scoped = True`,
  the default) or cross-org routes such as `/api/v1/projects/` (`org_scoped = False`).
  `get_queryset()` is *always* `portal.tenancy.restrict(base_queryset, scope, action)`; subclasses
  declare `queryset` (the base) and never filter by organization themselves.
- `capabilities = {"list": "members.view", "create": "members.invite", …}` maps each action to a
  capability of the role table; `default_capability` covers the rest.
- Id kwargs of the URL (`pk`, `…_id`, e.g. a nested `template_id`) are checked before any query:
  anything but an id within the database's range answers 404 (`portal.converters.parse_id`).
"""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import cached_property
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from portal.converters import parse_id
from portal.errors import NotFound
from portal.tenancy import OrgContext, Scope, org_context_for, restrict

from .permissions import OrgCapability


class ScopedMixin:
    org_scoped = True
    org_url_kwarg = "org"
    capabilities: dict[str, str] = {}
    default_capability: str | None = None
    # action -> restriction action ("view", "change", …) passed to tenancy.restrict
    restriction_actions: dict[str, str] = {}
    permission_classes = [IsAuthenticated, OrgCapability]

    org_context: OrgContext | None = None

    def initial(self, request, *args, **kwargs):
        # Authentication first (401 for anonymous), then the tenant (404 for a foreign org),
        # then the capability (403) – the same order for every endpoint.
        self.perform_authentication(request)
        if request.user.is_authenticated and getattr(request.user, "language", ""):
            translation.activate(request.user.language)  # token clients get their own language
            request.LANGUAGE_CODE = request.user.language
        self.check_id_kwargs()
        if self.org_scoped and request.user.is_authenticated and not getattr(self, "swagger_fake_view", False):
            self.org_context = org_context_for(request.user, self.kwargs[self.org_url_kwarg])
        super().initial(request, *args, **kwargs)

    def check_id_kwargs(self) -> None:
        # An out-of-range id would reach a filter (OverflowError on SQLite, DataError on PostgreSQL).
        for name, value in self.kwargs.items():
            if (name == "pk" or name.endswith("_id")) and parse_id(value) is None:
                raise NotFound(translation.gettext("Not found."))

    def get_required_capability(self) -> str | None:
        return self.capabilities.get(getattr(self, "action", None) or "", self.default_capability)

    @cached_property
    def scope(self) -> Scope:
        return Scope(user=self.request.user, context=self.org_context)

    def get_queryset(self):
        base = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return base.none()
        action = self.restriction_actions.get(getattr(self, "action", None) or "", "view")
        return restrict(base, self.scope, action)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["org_context"] = self.org_context
        return context

    def scoped_parent(self, queryset, **lookup):
        """The parent object a nested route names (e.g. the template of `…/templates/{id}/items/`),
        through the same restriction as its own routes: a foreign or unknown one is 404, so the
        nested list never answers 200 `[]` for another tenant's id."""
        parent = restrict(queryset, self.scope).filter(**lookup).first()
        if parent is None:
            raise NotFound(translation.gettext("Not found."))
        return parent


class ScopedGenericViewSet(ScopedMixin, viewsets.GenericViewSet):
    pass


class ScopedModelViewSet(ScopedMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyModelViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
