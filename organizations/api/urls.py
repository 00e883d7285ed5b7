from rest_framework.routers import SimpleRouter

from .members import InvitationViewSet, MemberViewSet
from .views import AuditEventViewSet, ConnectionRequestViewSet, CustomerViewSet, OrganizationViewSet

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization-api")
router.register(r"organizations/(?P<org>[^/.]+)/customers", CustomerViewSet, basename="customer-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/connection-requests", ConnectionRequestViewSet, basename="connection-request-api"
)
router.register(r"organizations/(?P<org>[^/.]+)/audit-events", AuditEventViewSet, basename="audit-event-api")
# ORG-5: members and invitations
router.register(r"organizations/(?P<org>[^/.]+)/members", MemberViewSet, basename="member-api")
router.register(r"organizations/(?P<org>[^/.]+)/invitations", InvitationViewSet, basename="invitation-api")
urlpatterns = router.urls
