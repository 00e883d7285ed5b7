"""`/api/v1/organizations/{org}/delegations/` and `/api/v1/delegation-releases/{token}/` (DLG-1 … DLG-5).

Thin adapters: the tenancy base classes resolve the org, check the capability and restrict the
queryset; every write is one service call whose domain errors become the API's error body
(409 for a refused transition or a lost race).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from organizations.models import Organization
from portal.api.pagination import CappedCountPagination
from portal.api.schema import ORG
from portal.api.viewsets import ScopedGenericViewSet
from portal.errors import InvalidInput

from .. import services
from ..models import Delegation, DelegationRequesterBlock
from ..selectors import LIST_FIELDS, delegation_search, delegation_status_filter, release_delegations_for_token
from .serializers import (
    SIDES,
    DelegationAcceptSerializer,
    DelegationCreateSerializer,
    DelegationRequesterBlockSerializer,
    DelegationSerializer,
    ReleaseAcceptSerializer,
    ReleaseSerializer,
)


class DelegationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Delegation.Status.choices, method="filter_status", label=_("Status as of now")
    )
    direction = django_filters.ChoiceFilter(choices=Delegation.Direction.choices)
    side = django_filters.ChoiceFilter(choices=SIDES, method="filter_side", label=_("Side of this organization"))
    # The typed number, not the project's: filtering must not tell a requester whether it exists.
    project = django_filters.CharFilter(field_name="requested_number", lookup_expr="iexact", label=_("Project number"))
    search = django_filters.CharFilter(method="filter_search", label=_("Project number or name (name where visible)"))

    class Meta:
        model = Delegation
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        context = self.request.parser_context["view"].org_context
        return delegation_search(queryset, organization=context.organization, term=value)

    def filter_status(self, queryset, name, value):
        return delegation_status_filter(queryset, value)

    def filter_side(self, queryset, name, value):
        context = self.request.parser_context["view"].org_context
        if value == "project":
            return queryset.filter(organization=context.organization)
        return queryset.filter(caretaker=context.organization)


@extend_schema(parameters=[ORG], tags=["delegations"])
@extend_schema_view(
    list=extend_schema(summary="Delegations of this organization, on either side (DLG-3)"),
    retrieve=extend_schema(summary="One delegation"),
)
class DelegationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Caretaker delegations where the org in the URL owns the project or takes care of it."""

    queryset = Delegation.objects.select_related("project", "organization", "caretaker")
    serializer_class = DelegationSerializer
    pagination_class = CappedCountPagination  # an agency's 30,000 rows: counted up to 1,000 (issue 13)
    lookup_url_kwarg = "delegation_id"
    lookup_value_regex = r"\d+"
    filterset_class = DelegationFilter
    search_fields: list[str] = []  # `?search=` is DelegationFilter.filter_search (names only where visible)
    ordering_fields = ["created_at", "ends_at"]
    ordering = ["-created_at", "-id"]
    capabilities = {
        "list": "delegations.manage",
        "retrieve": "delegations.manage",
        "create": "delegations.manage",
        "accept": "requests.decide",
        "decline": "requests.decide",
        "block": "requests.decide",
        "cancel": "delegations.manage",
        "revoke": "delegations.manage",
    }

    def get_queryset(self):
        queryset = super().get_queryset().with_current_status()
        if self.action in ("list", "retrieve"):
            # the columns the serializer shows, the related orgs by identifier and name (issue 13);
            # the actions hand the whole row to the services
            queryset = queryset.only(*LIST_FIELDS, "organization__public_id", "caretaker__public_id")
        return queryset

    def _fresh(self, delegation: Delegation) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=delegation.pk)).data)

    @extend_schema(
        summary="Request care for a project (DLG-1) or release projects to a caretaker (DLG-2)",
        request=DelegationCreateSerializer,
        responses={201: DelegationSerializer(many=True)},
    )
    def create(self, request, *args, **kwargs):
        serializer = DelegationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["direction"] == Delegation.Direction.REQUEST:
            created = [
                services.delegation_request(
                    context=self.org_context,
                    project_number=data["project_number"],
                    message=data.get("message", ""),
                    ends_at=data.get("ends_at"),
                    actor=request.user,
                )
            ]
        else:
            created = services.delegation_release(
                context=self.org_context,
                project_numbers=data["projects"],
                email=data["email"],
                ends_at=data.get("ends_at"),
                message=data.get("message", ""),
                actor=request.user,
            )
        rows = self.get_queryset().filter(pk__in=[d.pk for d in created]).order_by("requested_number", "id")
        return Response(self.get_serializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Accept a caretaker's request (project side)",
        request=DelegationAcceptSerializer,
        responses={200: DelegationSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        serializer = DelegationAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delegation = services.delegation_accept(
            delegation=self.get_object(),
            context=self.org_context,
            actor=request.user,
            ends_at=serializer.validated_data.get("ends_at"),
        )
        return self._fresh(delegation)

    @extend_schema(
        summary="Decline a caretaker's request (project side)", request=None, responses={200: DelegationSerializer}
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs):
        delegation = services.delegation_decline(
            delegation=self.get_object(), context=self.org_context, actor=request.user
        )
        return self._fresh(delegation)

    @extend_schema(
        summary="Block the requester: decline its pending requests, drop its later ones silently",
        request=None,
        responses={201: DelegationRequesterBlockSerializer},
    )
    @action(detail=True, methods=["post"])
    def block(self, request, *args, **kwargs):
        block = services.delegation_block_requester(
            delegation=self.get_object(), context=self.org_context, actor=request.user
        )
        return Response(DelegationRequesterBlockSerializer(block).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw a pending request or release (the side that started it)",
        request=None,
        responses={200: DelegationSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        delegation = services.delegation_cancel(
            delegation=self.get_object(), context=self.org_context, actor=request.user
        )
        return self._fresh(delegation)

    @extend_schema(
        summary="End the delegation from either side, at any time (DLG-5)",
        request=None,
        responses={200: DelegationSerializer},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        delegation = services.delegation_revoke(
            delegation=self.get_object(), context=self.org_context, actor=request.user
        )
        return self._fresh(delegation)


@extend_schema(parameters=[ORG], tags=["delegations"])
@extend_schema_view(
    list=extend_schema(summary="Requester orgs this org blocked (their delegation requests are dropped)"),
    destroy=extend_schema(summary="Unblock a requester"),
)
class DelegationRequesterBlockViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, ScopedGenericViewSet):
    queryset = DelegationRequesterBlock.objects.select_related("blocked_organization")
    serializer_class = DelegationRequesterBlockSerializer
    lookup_url_kwarg = "block_id"
    lookup_value_regex = r"\d+"
    ordering = ["-created_at", "-id"]
    capabilities = {"list": "requests.view", "destroy": "requests.decide"}

    def perform_destroy(self, instance):
        services.delegation_unblock_requester(block=instance, context=self.org_context, actor=self.request.user)


TOKEN = OpenApiParameter("token", str, OpenApiParameter.PATH, description="The token from the release email's link.")


@extend_schema(tags=["delegations"])
class DelegationReleaseViewSet(ScopedGenericViewSet):
    """A release link (DLG-2), for its addressee only: see it, accept it for one of your orgs, decline it."""

    org_scoped = False
    queryset = Delegation.objects.all()
    serializer_class = ReleaseSerializer
    lookup_field = "token"
    lookup_value_regex = r"[A-Za-z0-9_-]{1,64}"

    @extend_schema(summary="What was released to you", parameters=[TOKEN], responses={200: ReleaseSerializer})
    def retrieve(self, request, token=None):
        delegations = release_delegations_for_token(token=token, user=request.user)
        return Response(ReleaseSerializer(ReleaseSerializer.for_delegations(delegations)).data)

    @extend_schema(
        summary="Accept a release for one of your organizations",
        parameters=[TOKEN],
        request=ReleaseAcceptSerializer,
        responses={200: DelegationSerializer(many=True)},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, token=None):
        # The token first, as detail and decline do: an unknown link is 404 whatever the body says.
        release_delegations_for_token(token=token, user=request.user)
        serializer = ReleaseAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        caretaker = Organization.objects.filter(
            public_id=serializer.validated_data["organization"].strip().upper()
        ).first()
        if caretaker is None:
            raise InvalidInput(_("Choose an organization in which you are Owner or Admin."), field="organization")
        accepted = services.delegation_release_accept(token=token, user=request.user, caretaker=caretaker)
        rows = (
            Delegation.objects.with_current_status()
            .select_related("project", "organization", "caretaker")
            .filter(pk__in=[d.pk for d in accepted])
            .order_by("project__number", "id")
        )
        return Response(DelegationSerializer(rows, many=True).data)

    @extend_schema(summary="Decline a release", parameters=[TOKEN], request=None, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, token=None):
        services.delegation_release_decline(token=token, user=request.user)
        delegations = release_delegations_for_token(token=token, user=request.user)
        return Response(ReleaseSerializer(ReleaseSerializer.for_delegations(delegations)).data)
