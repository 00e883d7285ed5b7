from rest_framework.routers import SimpleRouter

from .invoice_views import InvoiceViewSet, OrganizationInvoiceViewSet, PaymentMethodViewSet
from .views import OrganizationSubscriptionViewSet, SubscriptionViewSet

router = SimpleRouter()
router.register(r"subscriptions", SubscriptionViewSet, basename="subscription-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/subscriptions",
    OrganizationSubscriptionViewSet,
    basename="organization-subscription-api",
)
# BIL-5 invoices, BIL-6 payment methods
router.register(r"invoices", InvoiceViewSet, basename="invoice-api")
router.register(
    r"organizations/(?P<org>[^/.]+)/invoices", OrganizationInvoiceViewSet, basename="organization-invoice-api"
)
router.register(r"organizations/(?P<org>[^/.]+)/payment-methods", PaymentMethodViewSet, basename="payment-method-api")
urlpatterns = router.urls
