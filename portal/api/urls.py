"""`/api/v1/`: the token endpoint plus each app's router (`<app>/api/urls.py`)."""

from django.urls import include, path

from .auth import TokenView

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("portal.api.notifications")),
    path("", include("organizations.api.urls")),
    path("", include("projects.api.urls")),
    path("", include("delegations.api.urls")),
    path("", include("offers.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("invoices.api.urls")),
]
