from rest_framework.routers import SimpleRouter

from .views import DelegationReleaseViewSet, DelegationRequesterBlockViewSet, DelegationViewSet

router = SimpleRouter()
router.register(r"organizations/(?P<org>[^/.]+)/delegations", DelegationViewSet, basename="delegation-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/delegation-blocks",
    DelegationRequesterBlockViewSet,
    basename="delegation-block-api",
)
router.register(r"delegation-releases", DelegationReleaseViewSet, basename="delegation-release-api")
urlpatterns = router.urls
