from django.urls import path

from . import views

# BIL-5 invoices, BIL-6 payment methods (partner-only areas, ORG-6)
urlpatterns = [
    path("o/<str:org>/settings/invoices/", views.InvoiceListView.as_view(), name="invoice-list"),
    path("o/<str:org>/settings/invoices/<id:invoice_id>/", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("o/<str:org>/settings/invoices/<id:invoice_id>/pdf/", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path(
        "o/<str:org>/settings/invoices/<id:invoice_id>/itemisation.csv",
        views.InvoiceItemisationView.as_view(),
        name="invoice-itemisation",
    ),
    path("o/<str:org>/settings/payment-methods/", views.PaymentMethodListView.as_view(), name="payment-method-list"),
    path(
        "o/<str:org>/settings/payment-methods/<id:payment_method_id>/default/",
        views.PaymentMethodDefaultView.as_view(),
        name="payment-method-default",
    ),
    path(
        "o/<str:org>/settings/payment-methods/<id:payment_method_id>/remove/",
        views.PaymentMethodRemoveView.as_view(),
        name="payment-method-remove",
    ),
]

# E-invoice download (issue 15): XRechnung CII XML, same access as the PDF.
urlpatterns += [
    path(
        "o/<str:org>/settings/invoices/<id:invoice_id>/xrechnung/",
        views.InvoiceXRechnungView.as_view(),
        name="invoice-xrechnung",
    ),
]
