from rest_framework.routers import SimpleRouter

from .members import InvitationViewSet, MemberViewSet
from .views import OrganizationViewSet

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="api-organization")
# ORG-5
router.register(r"organizations/(?P<org>[^/.]+)/members", MemberViewSet, basename="api-member")
router.register(r"organizations/(?P<org>[^/.]+)/invitations", InvitationViewSet, basename="api-invitation")
urlpatterns = router.urls
