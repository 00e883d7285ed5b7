from rest_framework.routers import SimpleRouter

from .views import InvoiceViewSet, OrganizationInvoiceViewSet, PaymentMethodViewSet

# BIL-5 invoices, BIL-6 payment methods
router = SimpleRouter()
router.register(r"invoices", InvoiceViewSet, basename="invoice-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/invoices", OrganizationInvoiceViewSet, basename="organization-invoice-api"
)
router.register(r"organizations/(?P<org>[^/.]+)/payment-methods", PaymentMethodViewSet, basename="payment-method-api")
urlpatterns = router.urls
