from django.urls import path

from . import views

urlpatterns = [
    path("o/<str:org>/delegations/", views.DelegationOverviewView.as_view(), name="delegation-list"),
    path("o/<str:org>/delegations/request/", views.DelegationRequestView.as_view(), name="delegation-request"),
    path("o/<str:org>/delegations/release/", views.DelegationReleaseView.as_view(), name="delegation-release"),
    path("o/<str:org>/delegations/<id:delegation_id>/", views.DelegationDetailView.as_view(), name="delegation-detail"),
    path(
        "o/<str:org>/delegations/<id:delegation_id>/accept/",
        views.DelegationAcceptView.as_view(),
        name="delegation-accept",
    ),
    path(
        "o/<str:org>/delegations/<id:delegation_id>/decline/",
        views.DelegationDeclineView.as_view(),
        name="delegation-decline",
    ),
    path(
        "o/<str:org>/delegations/<id:delegation_id>/block/",
        views.DelegationBlockView.as_view(),
        name="delegation-block",
    ),
    path(
        "o/<str:org>/delegations/blocked/<id:block_id>/unblock/",
        views.DelegationUnblockView.as_view(),
        name="delegation-unblock",
    ),
    path(
        "o/<str:org>/delegations/<id:delegation_id>/cancel/",
        views.DelegationCancelView.as_view(),
        name="delegation-cancel",
    ),
    path(
        "o/<str:org>/delegations/<id:delegation_id>/revoke/",
        views.DelegationRevokeView.as_view(),
        name="delegation-revoke",
    ),
    # The link in the release email (DLG-2): not inside an org – the caretaker picks one.
    path("delegations/accept/<str:token>/", views.ReleaseAcceptView.as_view(), name="delegation-release-accept"),
]
