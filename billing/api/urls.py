from rest_framework.routers import SimpleRouter

from projects.numbers import PROJECT_NUMBER_REGEX

from .views import OrganizationSubscriptionViewSet, ProjectServiceOrderViewSet, SubscriptionViewSet

router = SimpleRouter()
router.register(r"subscriptions", SubscriptionViewSet, basename="subscription-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/subscriptions",
    OrganizationSubscriptionViewSet,
    basename="organization-subscription-api",
)
router.register(
    rf"projects/(?P<project_number>{PROJECT_NUMBER_REGEX})/services",
    ProjectServiceOrderViewSet,
    basename="project-service-order-api",
)
urlpatterns = router.urls
