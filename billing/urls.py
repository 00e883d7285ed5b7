from django.urls import path

from . import invoice_views, views

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
    # BIL-5 invoices, BIL-6 payment methods (partner-only areas, ORG-6)
    path("o/<str:org>/settings/invoices/", invoice_views.InvoiceListView.as_view(), name="invoice-list"),
    path(
        "o/<str:org>/settings/invoices/<id:invoice_id>/",
        invoice_views.InvoiceDetailView.as_view(),
        name="invoice-detail",
    ),
    path(
        "o/<str:org>/settings/invoices/<id:invoice_id>/pdf/", invoice_views.InvoicePdfView.as_view(), name="invoice-pdf"
    ),
    path(
        "o/<str:org>/settings/payment-methods/",
        invoice_views.PaymentMethodListView.as_view(),
        name="payment-method-list",
    ),
    path(
        "o/<str:org>/settings/payment-methods/<id:payment_method_id>/default/",
        invoice_views.PaymentMethodDefaultView.as_view(),
        name="payment-method-default",
    ),
    path(
        "o/<str:org>/settings/payment-methods/<id:payment_method_id>/remove/",
        invoice_views.PaymentMethodRemoveView.as_view(),
        name="payment-method-remove",
    ),
]
