from django.urls import path

from . import views

urlpatterns = [
    path("o/<str:org>/", views.OrganizationDashboardView.as_view(), name="organization-dashboard"),
]

# ORG-5: the link in the invitation email (not inside an org)
urlpatterns += [
    path("invitations/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
]
