"""API representations of delegations (`/api/v1/organizations/{org}/delegations/`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import ModelSerializer

from ..models import Delegation, DelegationRequesterBlock
from ..services import MAX_MESSAGE, MAX_PROJECTS_PER_RELEASE

SIDES = [("project", _("Project's organization")), ("caretaker", _("Caretaker"))]


class OrganizationRefSerializer(serializers.Serializer):
    public_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class ProjectRefSerializer(serializers.Serializer):
    number = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True, allow_null=True)


class DelegationSerializer(ModelSerializer):
    """Issue 11, item 3: to the caretaker of a request that was not accepted (yet), the project is
    only the number it typed (`name` null) and `organization` is null – whether such a project
    exists or not."""

    project = serializers.SerializerMethodField(help_text=_("The number; the name once visible to you."))
    organization = serializers.SerializerMethodField(
        help_text=_("The project's organization; null on the caretaker side until a request is accepted.")
    )
    caretaker = OrganizationRefSerializer(
        read_only=True, allow_null=True, help_text=_("Empty until a release is accepted.")
    )
    status = serializers.ChoiceField(
        choices=Delegation.Status.choices,
        source="current_status",
        read_only=True,
        help_text=_("As of now: an open delegation past its end or response time reads as expired."),
    )
    side = serializers.SerializerMethodField(help_text=_("The side of the organization in the URL."))

    class Meta:
        model = Delegation
        fields = [
            "id",
            "project",
            "organization",
            "caretaker",
            "direction",
            "side",
            "invited_email",
            "message",
            "status",
            "ends_at",
            "respond_by",
            "created_at",
            "decided_at",
            "ended_at",
        ]
        read_only_fields = fields

    def _revealed(self, delegation: Delegation) -> bool:
        context = self.context.get("org_context")
        if context is None:  # the release link: the caretaker's view
            return delegation.direction == Delegation.Direction.RELEASE or delegation.was_accepted
        return delegation.revealed_to(context.organization)

    @extend_schema_field(ProjectRefSerializer)
    def get_project(self, delegation: Delegation) -> dict:
        if self._revealed(delegation):
            return {"number": delegation.project.number, "name": delegation.project.name}
        return {"number": delegation.number, "name": None}

    @extend_schema_field(OrganizationRefSerializer(allow_null=True))
    def get_organization(self, delegation: Delegation) -> dict | None:
        if self._revealed(delegation):
            return {"public_id": delegation.organization.public_id, "name": delegation.organization.name}
        return None

    @extend_schema_field(serializers.ChoiceField(choices=SIDES, allow_null=True))
    def get_side(self, delegation: Delegation) -> str | None:
        context = self.context.get("org_context")
        return delegation.side_of(context.organization) if context else None


class DelegationCreateSerializer(serializers.Serializer):
    """`request`: this org, as caretaker, asks for `project_number` (DLG-1).
    `release`: this org releases `projects` (numbers) to `email` (DLG-2)."""

    direction = serializers.ChoiceField(choices=Delegation.Direction.choices)
    project_number = serializers.CharField(required=False, max_length=30, help_text=_("request: the project's number"))
    projects = serializers.ListField(
        child=serializers.CharField(max_length=30),
        required=False,
        allow_empty=False,
        max_length=MAX_PROJECTS_PER_RELEASE,
        help_text=_("release: numbers of this organization's projects"),
    )
    email = serializers.EmailField(required=False, help_text=_("release: the caretaker's email address"))
    ends_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Optional end of access (future).")
    )
    message = serializers.CharField(required=False, allow_blank=True, max_length=MAX_MESSAGE)

    def validate(self, data):
        required = ["project_number"] if data["direction"] == Delegation.Direction.REQUEST else ["projects", "email"]
        missing = {field: [_("This field is required.")] for field in required if not data.get(field)}
        if missing:
            raise serializers.ValidationError(missing)
        return data


class DelegationAcceptSerializer(serializers.Serializer):
    ends_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("Optional end of access (future); keeps the requested one if empty."),
    )


class ReleaseAcceptSerializer(serializers.Serializer):
    organization = serializers.CharField(
        max_length=16, help_text=_("Identifier of your organization that takes care (you are its Owner or Admin).")
    )


class ReleaseDelegationSerializer(ModelSerializer):
    project = ProjectRefSerializer(read_only=True)
    caretaker = OrganizationRefSerializer(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=Delegation.Status.choices, source="current_status", read_only=True)

    class Meta:
        model = Delegation
        fields = ["id", "project", "caretaker", "status"]
        read_only_fields = fields


class ReleaseSerializer(serializers.Serializer):
    """What the addressee of a release link sees (and only the addressee)."""

    organization = OrganizationRefSerializer(read_only=True)
    message = serializers.CharField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True, allow_null=True)
    respond_by = serializers.DateTimeField(read_only=True)
    delegations = ReleaseDelegationSerializer(many=True, read_only=True)

    @staticmethod
    def for_delegations(delegations: list[Delegation]) -> dict:
        first = delegations[0]
        return {
            "organization": first.organization,
            "message": first.message,
            "ends_at": first.ends_at,
            "respond_by": first.respond_by,
            "delegations": delegations,
        }


class DelegationRequesterBlockSerializer(ModelSerializer):
    blocked_organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = DelegationRequesterBlock
        fields = ["id", "blocked_organization", "created_at"]
        read_only_fields = fields
