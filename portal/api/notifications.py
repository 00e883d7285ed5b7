"""`/api/v1/notifications/`: the caller's own notifications (PLT-4)."""

from django.db.models import QuerySet
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from portal.models import Notification
from portal.tenancy import Scope, restriction

from .serializers import ModelSerializer
from .viewsets import ScopedGenericViewSet


@restriction(Notification)
def _restrict_notifications(queryset: QuerySet, *, scope: Scope, action: str) -> QuerySet:
    return queryset.filter(recipient=scope.user)


class NotificationSerializer(ModelSerializer):
    text = serializers.CharField(read_only=True)
    organization = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "organization", "created_at", "read_at"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The caller's notifications, newest first; mark one or all as read."""

    org_scoped = False
    queryset = Notification.objects.select_related("organization").order_by("-created_at", "-id")
    serializer_class = NotificationSerializer
    filterset_fields = {"read_at": ["isnull"]}

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="read")
    def mark_read(self, request, pk=None):
        notification = self.get_object()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None, responses={200: inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def mark_all_read(self, request):
        marked = self.get_queryset().filter(read_at__isnull=True).update(read_at=timezone.now())
        return Response({"marked": marked})


router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = [path("", include(router.urls))]
