from django.urls import path

from . import views

urlpatterns = [
    path("o/<str:org>/", views.OrganizationDashboardView.as_view(), name="organization-dashboard"),
]

# ORG-5: the link in the invitation email (not inside an org)
urlpatterns += [
    path("invitations/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
]

# ORG-5: members and invitations of an org
urlpatterns += [
    path("o/<str:org>/members/", views.MemberListView.as_view(), name="member-list"),
    path("o/<str:org>/members/invite/", views.InvitationCreateView.as_view(), name="invitation-create"),
    path("o/<str:org>/members/<int:member_id>/role/", views.MemberRoleChangeView.as_view(), name="member-role"),
    path("o/<str:org>/members/<int:member_id>/remove/", views.MemberRemoveView.as_view(), name="member-remove"),
    path("o/<str:org>/invitations/", views.InvitationListView.as_view(), name="invitation-list"),
    path(
        "o/<str:org>/invitations/<int:invitation_id>/resend/", views.InvitationResendView.as_view(),
        name="invitation-resend",
    ),
    path(
        "o/<str:org>/invitations/<int:invitation_id>/revoke/", views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
]
