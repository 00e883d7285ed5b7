from rest_framework.routers import SimpleRouter

from .views import (
    OfferBulkSendViewSet,
    OfferTemplateItemViewSet,
    OfferTemplateViewSet,
    OfferViewSet,
    OfferWebhookViewSet,
)

ORG = r"organizations/(?P<org>[^/.]+)"

router = SimpleRouter()
router.register(rf"{ORG}/offer-templates", OfferTemplateViewSet, basename="offer-template-api")
router.register(
    rf"{ORG}/offer-templates/(?P<template_id>\d+)/items", OfferTemplateItemViewSet, basename="offer-template-item-api"
)
router.register(rf"{ORG}/offers", OfferViewSet, basename="offer-api")
router.register(rf"{ORG}/offer-bulk-sends", OfferBulkSendViewSet, basename="offer-bulk-send-api")
router.register(rf"{ORG}/offer-webhook", OfferWebhookViewSet, basename="offer-webhook-api")
urlpatterns = router.urls
