from rest_framework.routers import SimpleRouter

from ..numbers import PROJECT_NUMBER_REGEX
from .views import OrganizationProjectViewSet, ProjectRoleGrantViewSet, ProjectViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="api-project")
router.register(
    r"organizations/(?P<org>[^/.]+)/projects", OrganizationProjectViewSet, basename="api-organization-project"
)
router.register(
    rf"projects/(?P<project_number>{PROJECT_NUMBER_REGEX})/grants",
    ProjectRoleGrantViewSet,
    basename="api-project-grant",
)
urlpatterns = router.urls
