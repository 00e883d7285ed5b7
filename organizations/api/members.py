"""`/api/v1/organizations/{org}/members/` and `/invitations/` (ORG-5).

Thin adapters: the tenancy base classes resolve the org, check the capability of the role table
and restrict the querysets; every write is one service call whose domain errors become the API's
error body (403 above one's own role, 409 last Owner / duplicate / lost race, 410 closed link).
"""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.schema import ORG
from portal.api.serializers import ModelSerializer
from portal.api.viewsets import ScopedGenericViewSet

from .. import selectors
from ..models import Invitation, Membership
from ..roles import OrgRole
from ..services.invitations import invitation_create, invitation_resend, invitation_revoke
from ..services.members import member_change_role, member_remove


class PersonSerializer(serializers.Serializer):
    email = serializers.EmailField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)


class MemberSerializer(ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = fields


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=OrgRole.choices)


class InvitationSerializer(ModelSerializer):
    """An invitation as its org sees it: never the link, never whether the address has an account."""

    status = serializers.ChoiceField(
        choices=Invitation.Status.choices,
        source="current_status",
        read_only=True,
        help_text=_("As of now: a pending invitation past its time reads as expired."),
    )
    invited_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "first_name",
            "last_name",
            "language",
            "with_initial_password",
            "expires_at",
            "send_count",
            "sent_at",
            "invited_by",
            "created_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=OrgRole.choices)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("Of the email where the address has no account yet; default: yours."),
    )
    initial_password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        max_length=128,
        style={"input_type": "password"},
        help_text=_("Partner staff only: the person logs in with it and must change it at first login. Never emailed."),
    )


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=OrgRole.choices)

    class Meta:
        model = Membership
        fields: list[str] = []


@extend_schema(parameters=[ORG], tags=["members"])
@extend_schema_view(
    list=extend_schema(summary="Members of the organization (ORG-5)"),
    retrieve=extend_schema(summary="One member"),
    partial_update=extend_schema(
        summary="Change a member's role", request=MemberUpdateSerializer, responses={200: MemberSerializer}
    ),
    destroy=extend_schema(summary="Remove a member (the account stays)"),
)
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ScopedGenericViewSet):
    queryset = Membership.objects.select_related("user", "organization")
    serializer_class = MemberSerializer
    lookup_url_kwarg = "member_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "patch", "delete", "head", "options"]
    filterset_class = MemberFilter
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    ordering_fields = ["created_at", "user__email"]
    capabilities = {
        "list": "members.view",
        "retrieve": "members.view",
        "partial_update": "members.manage",
        "destroy": "members.manage",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list" and not self.request.query_params.get("ordering"):
            return selectors.member_list(queryset=queryset)
        return queryset.order_by("id")

    def partial_update(self, request, *args, **kwargs):
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = member_change_role(
            membership=self.get_object(),
            role=serializer.validated_data["role"],
            actor=request.user,
            context=self.org_context,
        )
        return Response(MemberSerializer(Membership.objects.select_related("user").get(pk=membership.pk)).data)

    def perform_destroy(self, instance):
        member_remove(membership=instance, actor=self.request.user, context=self.org_context)


class InvitationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Invitation.Status.choices, field_name="current_status", label=_("Status as of now")
    )
    role = django_filters.ChoiceFilter(choices=OrgRole.choices)

    class Meta:
        model = Invitation
        fields: list[str] = []


@extend_schema(parameters=[ORG], tags=["members"])
@extend_schema_view(
    list=extend_schema(summary="Invitations of the organization (ORG-5)"),
    retrieve=extend_schema(summary="One invitation"),
    create=extend_schema(
        summary="Invite an email address with a role",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
    ),
)
class InvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedGenericViewSet
):
    queryset = Invitation.objects.select_related("organization", "invited_by")
    serializer_class = InvitationSerializer
    lookup_url_kwarg = "invitation_id"
    lookup_value_regex = r"\d+"
    filterset_class = InvitationFilter
    search_fields = ["email"]
    ordering_fields = ["created_at", "expires_at"]
    ordering = ["-created_at", "-id"]
    capabilities = {
        "list": "members.invite",
        "retrieve": "members.invite",
        "create": "members.invite",
        "resend": "members.invite",
        "revoke": "members.invite",
    }

    def get_queryset(self):
        return super().get_queryset().with_current_status()

    def _fresh(self, invitation: Invitation, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=invitation.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invitation = invitation_create(
            organization=self.org_context.organization,
            email=data["email"],
            role=data["role"],
            actor=request.user,
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            language=data.get("language"),
            initial_password=data.get("initial_password") or None,
        )
        return self._fresh(invitation, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send again: a new link, valid for 7 more days; the old link stops working",
        request=None,
        responses={200: InvitationSerializer},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs):
        invitation = invitation_resend(invitation=self.get_object(), actor=request.user, context=self.org_context)
        return self._fresh(invitation)

    @extend_schema(summary="Withdraw a pending invitation", request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        invitation = invitation_revoke(invitation=self.get_object(), actor=request.user, context=self.org_context)
        return self._fresh(invitation)
