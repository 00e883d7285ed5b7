from rest_framework.routers import SimpleRouter

from .views import OrganizationSubscriptionViewSet, SubscriptionViewSet

router = SimpleRouter()
router.register(r"subscriptions", SubscriptionViewSet, basename="subscription-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/subscriptions",
    OrganizationSubscriptionViewSet,
    basename="organization-subscription-api",
)
urlpatterns = router.urls
