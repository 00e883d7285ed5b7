from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import ModelSerializer

from ..models import Project, ProjectRoleGrant
from ..roles import ProjectAction, ProjectRole
from ..selectors import allowed_actions_of


class ProjectSerializer(ModelSerializer):
    """A project in a list: always with its `number`, and how the reader reaches it."""

    organization = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    caretaker = serializers.BooleanField(
        read_only=True, default=False, help_text=_("The reader reaches the project through a caretaker delegation.")
    )
    role = serializers.ChoiceField(
        source="own_role",
        choices=ProjectRole.choices,
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("The reader's own role on the project (inherited access has none)."),
    )
    role_expires_at = serializers.DateTimeField(
        source="own_role_expires_at", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Project
        fields = [
            "number",
            "name",
            "description",
            "status",
            "organization",
            "organization_name",
            "caretaker",
            "role",
            "role_expires_at",
            "created_at",
        ]
        read_only_fields = ["number", "status", "created_at"]
        extra_kwargs = {"name": {"required": True}}


class ProjectDetailSerializer(ProjectSerializer):
    """One project, with every action the reader may perform on it (name and description writable)."""

    allowed_actions = serializers.SerializerMethodField()

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "allowed_actions"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ProjectAction.choices)))
    def get_allowed_actions(self, project) -> list[str]:
        return allowed_actions_of(project)


class ProjectCreateSerializer(serializers.Serializer):
    """The body of `POST /api/v1/organizations/{org}/projects/` (the org is the one in the URL)."""

    name = serializers.CharField(max_length=Project._meta.get_field("name").max_length)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ProjectRoleGrantSerializer(ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True, allow_null=True, default=None)
    organization = serializers.SlugRelatedField(slug_field="public_id", read_only=True, allow_null=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True, allow_null=True, default=None)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = ProjectRoleGrant
        fields = [
            "id",
            "email",
            "organization",
            "organization_name",
            "role",
            "source",
            "expires_at",
            "in_force",
            "created_at",
        ]
        read_only_fields = fields

    def get_in_force(self, grant) -> bool:
        return grant.is_in_force()


class ProjectRoleGrantCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=ProjectRole.choices)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("The role is honoured until this instant.")
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("Language of the email to a person without an account (default: yours)."),
    )


class ProjectRoleGrantUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ProjectRole.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
