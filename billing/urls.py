from django.urls import path

from . import views

urlpatterns = [
    path("o/<str:org>/billing/subscriptions/", views.SubscriptionListView.as_view(), name="subscription-list"),
    path("o/<str:org>/billing/subscriptions/book/", views.SubscriptionBookView.as_view(), name="subscription-book"),
    path(
        "o/<str:org>/billing/subscriptions/<id:subscription_id>/",
        views.SubscriptionDetailView.as_view(),
        name="subscription-detail",
    ),
    path(
        "o/<str:org>/billing/subscriptions/<id:subscription_id>/quantity/",
        views.SubscriptionQuantityView.as_view(),
        name="subscription-quantity",
    ),
    path(
        "o/<str:org>/billing/subscriptions/<id:subscription_id>/cancel/",
        views.SubscriptionCancelView.as_view(),
        name="subscription-cancel",
    ),
    # PRJ-5: paid services on a project page (resolved for the user like every project page).
    path("projects/<project_number:number>/services/", views.ProjectServicesView.as_view(), name="project-services"),
]
