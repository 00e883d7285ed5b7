"""`/api/v1/projects/` (across orgs), `/api/v1/organizations/{org}/projects/` (one org's list and
create) and `/api/v1/projects/{number}/grants/` (PLT-2, PRJ-1..PRJ-4).

Both go through `portal.api.viewsets.ScopedModelViewSet`, so every queryset is the tenancy
restriction of the model. A project the caller may not see is a 404; a visible project without
the action is a 403 (the action each endpoint needs is in `project_actions`).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from portal.api.pagination import CappedCountPagination
from portal.api.schema import ORG
from portal.api.viewsets import ScopedGenericViewSet, ScopedModelViewSet
from portal.pagination import COUNT_CAP

from .. import services
from ..models import Project, ProjectRoleGrant
from ..numbers import PROJECT_NUMBER_REGEX
from ..roles import ProjectAction
from ..selectors import (
    ProjectFilters,
    project_annotate_for_user,
    project_for_user,
    project_page,
    project_require,
)
from .serializers import (
    ProjectCreateSerializer,
    ProjectDetailSerializer,
    ProjectRoleGrantCreateSerializer,
    ProjectRoleGrantSerializer,
    ProjectRoleGrantUpdateSerializer,
    ProjectSerializer,
)

PROJECT_LIST_PARAMETERS = [
    OpenApiParameter("search", OpenApiTypes.STR, description="Part of the name, or the number (p-10042 or 10042)."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Project.Status.values),
]
ORGANIZATION_PARAMETER = OpenApiParameter(
    "organization",
    OpenApiTypes.STR,
    description=(
        "Only the projects of this organization (ORG-XXXX-XXXX). An organization the caller neither "
        "reaches nor sees projects of answers 404, as `/api/v1/organizations/{org}/projects/` does."
    ),
)


class ProjectListMixin:
    """Both project lists are `projects.selectors.project_page` (the pages' too); only the
    ordering is left to DRF."""

    filter_backends = [OrderingFilter]
    # `count` exact up to 1,000, then null (issue 13: counting 100,000 reachable projects cost more than the page)
    pagination_class = CappedCountPagination
    ordering_fields = ["name", "number", "created_at"]
    ordering = ["name", "id"]

    def list_queryset(self):
        filters = ProjectFilters.from_params(self.request.query_params)
        # the total up to 1,000, counted from the user's side (read by CappedCountPagination)
        page = project_page(scope=self.scope, filters=filters, cap=COUNT_CAP)
        self.capped_count = page.count
        return page.queryset


@extend_schema_view(
    list=extend_schema(
        summary="Projects the caller may see, across organizations",
        parameters=[*PROJECT_LIST_PARAMETERS, ORGANIZATION_PARAMETER],
    ),
    retrieve=extend_schema(summary="One project (view)"),
    update=extend_schema(summary="Change name and description (change)"),
    partial_update=extend_schema(summary="Change name or description (change)"),
    destroy=extend_schema(summary="Delete the project (delete)"),
)
class ProjectViewSet(
    ProjectListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedGenericViewSet,
):
    """Projects across organizations, filtered in SQL to what the caller may see. Creating one
    happens inside its org: `POST /api/v1/organizations/{org}/projects/`."""

    org_scoped = False
    queryset = Project.objects.select_related("organization")
    serializer_class = ProjectDetailSerializer
    lookup_field = "number"
    lookup_url_kwarg = "number"
    lookup_value_regex = PROJECT_NUMBER_REGEX
    # the project action each endpoint on one project needs (read by the isolation tests)
    project_actions = {
        "retrieve": ProjectAction.VIEW,
        "update": ProjectAction.CHANGE,
        "partial_update": ProjectAction.CHANGE,
        "destroy": ProjectAction.DELETE,
        "archive": ProjectAction.DELETE,
        "restore": ProjectAction.DELETE,
    }

    def get_queryset(self):
        # The list is restricted by `project_page` (the tenancy rule, read from the user's access
        # paths) and one project by `project_for_user` (see get_object): restricting the base
        # queryset first would build the access filter once more for nothing (issue 13).
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        if self.action == "list":
            return self.list_queryset()
        return project_annotate_for_user(super().get_queryset(), user=self.request.user, actions=True)

    def get_serializer_class(self):
        return ProjectSerializer if self.action == "list" else ProjectDetailSerializer

    def get_object(self):
        # The project by its number with the roles deciding every action on it: the same rule as
        # the restricted queryset, read for this one row (issue 13: planning the access filter of
        # the whole reach cost more than the answer)
        project = project_for_user(user=self.request.user, number=self.kwargs[self.lookup_url_kwarg])
        self.check_object_permissions(self.request, project)
        # OPTIONS (DRF's metadata) only describes the endpoint: it needs no more than seeing the project
        action = self.project_actions.get(self.action, ProjectAction.VIEW)
        project_require(user=self.request.user, project=project, action=action)
        return project

    def perform_update(self, serializer):
        project, data = serializer.instance, serializer.validated_data
        services.project_update(
            project=project,
            actor=self.request.user,
            name=data.get("name", project.name),
            description=data.get("description", project.description),
        )

    def perform_destroy(self, instance):
        services.project_delete(project=instance, actor=self.request.user)

    @extend_schema(request=None, responses={200: ProjectDetailSerializer}, summary="Archive the project (delete)")
    @action(detail=True, methods=["post"])
    def archive(self, request, number=None):
        project = services.project_archive(project=self.get_object(), actor=request.user)
        return Response(ProjectDetailSerializer(_reloaded(project, request.user)).data)

    @extend_schema(
        request=None, responses={200: ProjectDetailSerializer}, summary="Restore an archived project (delete)"
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, number=None):
        project = services.project_restore(project=self.get_object(), actor=request.user)
        return Response(ProjectDetailSerializer(_reloaded(project, request.user)).data)


def _reloaded(project: Project, user) -> Project:
    return project_annotate_for_user(Project.objects.select_related("organization"), user=user, actions=True).get(
        pk=project.pk
    )


@extend_schema_view(
    list=extend_schema(
        summary="The projects of one organization the caller may see", parameters=PROJECT_LIST_PARAMETERS
    ),
    create=extend_schema(
        summary="Create a project in the organization (capability projects.create)",
        request=ProjectCreateSerializer,
        responses={201: ProjectDetailSerializer},
    ),
)
@extend_schema(parameters=[ORG])
class OrganizationProjectViewSet(ProjectListMixin, mixins.ListModelMixin, ScopedGenericViewSet):
    """`/api/v1/organizations/{org}/projects/`: one org's projects, through the tenancy choke
    point like `/o/<org>/projects/` (a foreign or unknown org is 404 before anything else)."""

    queryset = Project.objects.select_related("organization")
    serializer_class = ProjectSerializer
    capabilities = {"list": "organization.view", "create": "projects.create"}
    default_capability = "organization.view"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        # restricted by `project_page` (see ProjectViewSet.get_queryset)
        return self.list_queryset()

    def create(self, request, *args, **kwargs):
        serializer = ProjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = services.project_create(
            organization=self.org_context.organization,
            name=data["name"],
            description=data["description"],
            created_by=request.user,
        )
        return Response(ProjectDetailSerializer(_reloaded(project, request.user)).data, status=status.HTTP_201_CREATED)


PROJECT_NUMBER_PARAMETER = OpenApiParameter(
    "project_number", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's number, e.g. p-10042."
)
GRANT_ID_PARAMETER = OpenApiParameter("grant_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="Role grants of a project (manage members)", parameters=[PROJECT_NUMBER_PARAMETER]),
    create=extend_schema(
        summary="Give a person a role on the project by email (manage members)",
        description=(
            "A person without an account gets one without a password and an email to choose it. "
            "The answer is the same whether or not the address had an account."
        ),
        parameters=[PROJECT_NUMBER_PARAMETER],
        request=ProjectRoleGrantCreateSerializer,
        responses={201: ProjectRoleGrantSerializer},
    ),
    retrieve=extend_schema(parameters=[PROJECT_NUMBER_PARAMETER, GRANT_ID_PARAMETER]),
    update=extend_schema(
        summary="Change role and end date",
        parameters=[PROJECT_NUMBER_PARAMETER, GRANT_ID_PARAMETER],
        request=ProjectRoleGrantUpdateSerializer,
        responses={200: ProjectRoleGrantSerializer},
    ),
    partial_update=extend_schema(
        summary="Change role or end date",
        parameters=[PROJECT_NUMBER_PARAMETER, GRANT_ID_PARAMETER],
        request=ProjectRoleGrantUpdateSerializer,
        responses={200: ProjectRoleGrantSerializer},
    ),
    destroy=extend_schema(summary="Revoke the role at once", parameters=[PROJECT_NUMBER_PARAMETER, GRANT_ID_PARAMETER]),
)
class ProjectRoleGrantViewSet(ScopedModelViewSet):
    """Who holds which role on one project; needs the "manage members" action on it."""

    org_scoped = False
    queryset = ProjectRoleGrant.objects.select_related("user", "organization")
    serializer_class = ProjectRoleGrantSerializer
    lookup_url_kwarg = "grant_id"
    filterset_fields = ["role", "source"]
    search_fields = ["user__email", "organization__name"]
    ordering_fields = ["created_at", "expires_at", "role"]
    ordering = ["id"]
    project_actions = {
        name: ProjectAction.MANAGE_MEMBERS
        for name in ("list", "create", "retrieve", "update", "partial_update", "destroy")
    }
    project: Project

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # 401 for anonymous callers first
        if getattr(self, "swagger_fake_view", False):
            return
        # with the user's roles loaded: `project_require` reads the role table instead of planning
        # the whole access rule once more (issue 13: ~18 ms of planning per request)
        self.project = project_for_user(user=request.user, number=self.kwargs["project_number"])
        action = self.project_actions.get(self.action, ProjectAction.VIEW)  # OPTIONS: see above
        project_require(user=request.user, project=self.project, action=action)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        # The tenancy rule of grants (`project_grant_restrict`: those who may manage the project's
        # members) was decided in `initial` for this one project from its loaded roles; restricting
        # again would plan the access filter a second time (issue 13).
        return self.queryset.filter(project=self.project)

    def create(self, request, *args, **kwargs):
        serializer = ProjectRoleGrantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grant = services.project_member_add(
            project=self.project,
            email=data["email"],
            role=data["role"],
            expires_at=data["expires_at"],
            language=data.get("language") or getattr(request, "LANGUAGE_CODE", None),
            actor=request.user,
        )
        return Response(ProjectRoleGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        grant = self.get_object()
        serializer = ProjectRoleGrantUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grant = services.project_member_change(
            grant=grant,
            role=data.get("role", grant.role),
            expires_at=data["expires_at"] if "expires_at" in data else grant.expires_at,
            actor=request.user,
        )
        return Response(ProjectRoleGrantSerializer(grant).data)

    def perform_destroy(self, instance):
        services.project_member_remove(grant=instance, actor=self.request.user)
