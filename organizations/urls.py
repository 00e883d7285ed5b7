from django.urls import path

from .views import audit_trail, customers, invitations, members, profile, relations

urlpatterns = [
    path("o/<str:org>/", profile.OrganizationDashboardView.as_view(), name="organization-dashboard"),
    path(
        "o/<str:org>/overview/<str:panel>/",
        profile.OrganizationDashboardPanelView.as_view(),
        name="organization-dashboard-panel",
    ),
    # ORG-1, ORG-8: profile, logo, support contact; ORG-3: the customer ends its reseller relation
    path("o/<str:org>/settings/", profile.OrganizationProfileView.as_view(), name="organization-profile"),
    path("o/<str:org>/settings/logo/", profile.OrganizationLogoView.as_view(), name="organization-logo"),
    path(
        "o/<str:org>/settings/logo/remove/",
        profile.OrganizationLogoRemoveView.as_view(),
        name="organization-logo-remove",
    ),
    path(
        "o/<str:org>/settings/support-contact/",
        profile.SupportContactView.as_view(),
        name="organization-support-contact",
    ),
    path("o/<str:org>/settings/reseller/end/", relations.ResellerEndView.as_view(), name="organization-reseller-end"),
    # ORG-2, ORG-3, ORG-4, ORG-7, ORG-11: the partner's customers
    path("o/<str:org>/customers/", customers.CustomerListView.as_view(), name="customer-list"),
    path("o/<str:org>/customers/new/", customers.CustomerCreateView.as_view(), name="customer-create"),
    path("o/<str:org>/customers/export/", customers.CustomerExportView.as_view(), name="customer-export"),
    path(
        "o/<str:org>/customers/export/<int:export_id>/",
        customers.CustomerExportDetailView.as_view(),
        name="customer-export-detail",
    ),
    path(
        "o/<str:org>/customers/export/<int:export_id>/download/",
        customers.CustomerExportDownloadView.as_view(),
        name="customer-export-download",
    ),
    path("o/<str:org>/customers/bulk/", customers.CustomerBulkView.as_view(), name="customer-bulk"),
    path("o/<str:org>/customers/connect/", relations.ConnectionRequestView.as_view(), name="customer-connect"),
    path("o/<str:org>/customers/<str:customer>/", customers.CustomerDetailView.as_view(), name="customer-detail"),
    path("o/<str:org>/customers/<str:customer>/staff/", customers.CustomerStaffView.as_view(), name="customer-staff"),
    path(
        "o/<str:org>/customers/<str:customer>/end/",
        customers.CustomerRelationEndView.as_view(),
        name="customer-relation-end",
    ),
    path(
        "o/<str:org>/customers/<str:customer>/archive/",
        customers.CustomerArchiveView.as_view(),
        name="customer-archive",
    ),
    # the shared Open requests page and the connection decisions (ORG-3)
    path("o/<str:org>/requests/", relations.OpenRequestsView.as_view(), name="open-requests"),
    path(
        "o/<str:org>/requests/connections/<id:relation_id>/accept/",
        relations.ConnectionAcceptView.as_view(),
        name="connection-accept",
    ),
    path(
        "o/<str:org>/requests/connections/<id:relation_id>/decline/",
        relations.ConnectionDeclineView.as_view(),
        name="connection-decline",
    ),
    path(
        "o/<str:org>/requests/connections/<id:relation_id>/cancel/",
        relations.ConnectionCancelView.as_view(),
        name="connection-cancel",
    ),
    # ORG-10
    path("o/<str:org>/audit/", audit_trail.AuditTrailView.as_view(), name="audit-trail"),
]

# ORG-5: the link in the invitation email (not inside an org)
urlpatterns += [
    path("invitations/<str:token>/", invitations.InvitationAcceptView.as_view(), name="invitation-accept"),
]

# ORG-5: members and invitations of an org
urlpatterns += [
    path("o/<str:org>/members/", members.MemberListView.as_view(), name="member-list"),
    path("o/<str:org>/members/invite/", invitations.InvitationCreateView.as_view(), name="invitation-create"),
    path("o/<str:org>/members/<id:member_id>/role/", members.MemberRoleChangeView.as_view(), name="member-role"),
    path("o/<str:org>/members/<id:member_id>/remove/", members.MemberRemoveView.as_view(), name="member-remove"),
    path("o/<str:org>/invitations/", invitations.InvitationListView.as_view(), name="invitation-list"),
    path(
        "o/<str:org>/invitations/<id:invitation_id>/resend/",
        invitations.InvitationResendView.as_view(),
        name="invitation-resend",
    ),
    path(
        "o/<str:org>/invitations/<id:invitation_id>/revoke/",
        invitations.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
]
