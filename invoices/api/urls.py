from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    InvoiceViewSet,
    InvoiceXRechnungViewSet,
    OrganizationInvoiceViewSet,
    OrganizationInvoiceXRechnungViewSet,
    PaymentMethodViewSet,
)

# BIL-5 invoices, BIL-6 payment methods
router = SimpleRouter()
router.register(r"invoices", InvoiceViewSet, basename="invoice-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/invoices", OrganizationInvoiceViewSet, basename="organization-invoice-api"
)
router.register(r"organizations/(?P<org>[^/.]+)/payment-methods", PaymentMethodViewSet, basename="payment-method-api")
urlpatterns = router.urls

# E-invoice download (issue 15): `…/invoices/{id}/xrechnung/`, same access as `…/pdf/`. The action's
# own options (its renderers: `Accept: application/xml`) as the router would pass them.
urlpatterns += [
    path(
        "invoices/<int:invoice_id>/xrechnung/",
        InvoiceXRechnungViewSet.as_view({"get": "xrechnung"}, **InvoiceXRechnungViewSet.xrechnung.kwargs),
        name="invoice-api-xrechnung",
    ),
    path(
        "organizations/<str:org>/invoices/<int:invoice_id>/xrechnung/",
        OrganizationInvoiceXRechnungViewSet.as_view(
            {"get": "xrechnung"}, **OrganizationInvoiceXRechnungViewSet.xrechnung.kwargs
        ),
        name="organization-invoice-api-xrechnung",
    ),
]
