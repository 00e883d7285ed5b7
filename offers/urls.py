from django.urls import path

from . import views

O = "o/<str:org>"
T = f"{O}/offer-templates/<id:template_id>"

urlpatterns = [
    path(f"{O}/offers/", views.OfferListView.as_view(), name="offer-list"),
    path(f"{O}/offers/send/", views.OfferSendView.as_view(), name="offer-send"),
    path(f"{O}/offers/bulk/", views.OfferBulkSendView.as_view(), name="offer-bulk-send"),
    path(f"{O}/offers/bulk/<id:bulk_send_id>/", views.OfferBulkSendDetailView.as_view(), name="offer-bulk-send-detail"),
    path(f"{O}/offers/webhook/", views.WebhookSettingsView.as_view(), name="offer-webhook-settings"),
    path(f"{O}/offers/<id:offer_id>/", views.OfferDetailView.as_view(), name="offer-detail"),
    path(f"{O}/offers/<id:offer_id>/status/", views.OfferStatusView.as_view(), name="offer-status"),
    path(f"{O}/offers/<id:offer_id>/cancel/", views.OfferCancelView.as_view(), name="offer-cancel"),
    path(f"{O}/offers/<id:offer_id>/retry/", views.OfferRetryView.as_view(), name="offer-retry"),
    path(f"{O}/offers/<id:offer_id>/accept/", views.OfferAcceptView.as_view(), name="offer-accept"),
    path(f"{O}/offers/<id:offer_id>/decline/", views.OfferDeclineView.as_view(), name="offer-decline"),
    path(f"{O}/offer-templates/", views.OfferTemplateListView.as_view(), name="offer-template-list"),
    path(f"{T}/", views.OfferTemplateDetailView.as_view(), name="offer-template-detail"),
    path(f"{T}/rename/", views.OfferTemplateRenameView.as_view(), name="offer-template-rename"),
    path(f"{T}/delete/", views.OfferTemplateDeleteView.as_view(), name="offer-template-delete"),
    path(f"{T}/products/", views.ProductSearchView.as_view(), name="offer-template-products"),
    path(f"{T}/items/", views.OfferTemplateItemAddView.as_view(), name="offer-template-item-add"),
    path(f"{T}/items/<id:item_id>/", views.OfferTemplateItemUpdateView.as_view(), name="offer-template-item-update"),
    path(
        f"{T}/items/<id:item_id>/remove/",
        views.OfferTemplateItemRemoveView.as_view(),
        name="offer-template-item-remove",
    ),
]
