from django.urls import path

from . import views

urlpatterns = [
    path("o/<str:org>/", views.OrganizationDashboardView.as_view(), name="organization-dashboard"),
]
