from rest_framework.routers import SimpleRouter

from .views import AuditEventViewSet, ConnectionRequestViewSet, CustomerViewSet, OrganizationViewSet

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization-api")
router.register(r"organizations/(?P<org>[^/.]+)/customers", CustomerViewSet, basename="customer-api")
router.register(r"organizations/(?P<org>[^/.]+)/connection-requests", ConnectionRequestViewSet, basename="connection-request-api")
router.register(r"organizations/(?P<org>[^/.]+)/audit-events", AuditEventViewSet, basename="audit-event-api")
urlpatterns = router.urls
