"""`/api/v1/organizations/`: the organizations the caller may act in (ORG-4), read-only.

Kept minimal here; other organization endpoints hang below `organizations/{org}/…`.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from portal.api.viewsets import ScopedGenericViewSet

from ..models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["public_id", "name", "kind", "status", "city", "country"]
        read_only_fields = fields


@extend_schema(tags=["organizations"])
@extend_schema_view(
    list=extend_schema(summary="Organizations you may act in: your own and linked customers (ORG-4)"),
    retrieve=extend_schema(summary="One organization you may act in"),
)
class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Restricted through `portal.tenancy` (one query however many customers a partner has)."""

    org_scoped = False
    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    lookup_field = "public_id"
    lookup_value_regex = r"[A-Za-z0-9-]{1,16}"
    search_fields = ["name", "public_id"]
    filterset_fields = ["kind"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]

    def get_object(self):
        self.kwargs["public_id"] = str(self.kwargs["public_id"]).upper()
        return super().get_object()
