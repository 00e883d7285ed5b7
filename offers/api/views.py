"""`/api/v1/organizations/{org}/offer-templates/`, `…/offers/`, `…/offer-bulk-sends/`, `…/offer-webhook/`.

Thin adapters: the tenancy base classes resolve the org, check the capability and restrict the
queryset; each write is one service call whose domain errors become the API's error body (409 for
a refused transition or a lost race). Which serializer answers depends on the side of the org in
the URL (partner conditions only for the partner).
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from portal.api.pagination import CappedCountPagination
from portal.api.schema import ORG
from portal.api.viewsets import ScopedGenericViewSet

from .. import services
from ..models import Offer, OfferBulkSend, OfferItem, OfferTemplate, OfferTemplateItem
from ..selectors import OfferFilters, offer_list, side_of, webhook_for
from .serializers import (
    CustomerOfferSerializer,
    OfferBulkSendCreateSerializer,
    OfferBulkSendSerializer,
    OfferDeclineSerializer,
    OfferSendSerializer,
    OfferTemplateItemCreateSerializer,
    OfferTemplateItemSerializer,
    OfferTemplateItemUpdateSerializer,
    OfferTemplateNameSerializer,
    OfferTemplateSerializer,
    PartnerOfferSerializer,
    WebhookSettingsSerializer,
)

# --- templates ------------------------------------------------------------------------------------------


@extend_schema(parameters=[ORG], tags=["offers"])
@extend_schema_view(
    list=extend_schema(summary="The partner's offer templates (OFR-2)"),
    retrieve=extend_schema(summary="One offer template with its items"),
    destroy=extend_schema(summary="Delete a template (sent offers keep their snapshot)"),
)
class OfferTemplateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ScopedGenericViewSet
):
    queryset = OfferTemplate.objects.prefetch_related(
        Prefetch("items", queryset=OfferTemplateItem.objects.select_related("product").order_by("position", "id"))
    )
    serializer_class = OfferTemplateSerializer
    lookup_url_kwarg = "template_id"
    lookup_value_regex = r"\d+"
    search_fields = ["name"]
    ordering = ["name", "id"]
    default_capability = "offer_templates.manage"

    def _fresh(self, template, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=template.pk)).data, status=code)

    @extend_schema(
        summary="Create a template by name",
        request=OfferTemplateNameSerializer,
        responses={201: OfferTemplateSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = OfferTemplateNameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.offer_template_create(
            context=self.org_context, name=serializer.validated_data["name"], actor=request.user
        )
        return self._fresh(template, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a template", request=OfferTemplateNameSerializer, responses={200: OfferTemplateSerializer}
    )
    def partial_update(self, request, *args, **kwargs):
        serializer = OfferTemplateNameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.offer_template_rename(
            template=self.get_object(),
            context=self.org_context,
            name=serializer.validated_data["name"],
            actor=request.user,
        )
        return self._fresh(template)

    def perform_destroy(self, instance):
        services.offer_template_delete(template=instance, context=self.org_context, actor=self.request.user)


@extend_schema(parameters=[ORG, OpenApiParameter("template_id", int, OpenApiParameter.PATH)], tags=["offers"])
@extend_schema_view(
    list=extend_schema(summary="Items of a template"),
    retrieve=extend_schema(summary="One template item"),
    destroy=extend_schema(summary="Remove an item from the template"),
)
class OfferTemplateItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ScopedGenericViewSet
):
    queryset = OfferTemplateItem.objects.select_related("product", "template")
    serializer_class = OfferTemplateItemSerializer
    lookup_url_kwarg = "item_id"
    lookup_value_regex = r"\d+"
    ordering = ["position", "id"]
    default_capability = "offer_templates.manage"

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.filter(template=self._template())

    def _template(self) -> OfferTemplate:
        # Once per request: a foreign template is 404 for the list as for every item route.
        if not hasattr(self, "_template_cache"):
            self._template_cache = self.scoped_parent(OfferTemplate.objects.all(), pk=self.kwargs["template_id"])
        return self._template_cache

    @extend_schema(
        summary="Add a catalog product (saved at once)",
        request=OfferTemplateItemCreateSerializer,
        responses={201: OfferTemplateItemSerializer},
    )
    def create(self, request, *args, **kwargs):
        template = self._template()
        serializer = OfferTemplateItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.offer_template_add_product(
            template=template,
            context=self.org_context,
            product_id=serializer.validated_data["product"],
            actor=request.user,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change quantity, term, license mode or selling price",
        request=OfferTemplateItemUpdateSerializer,
        responses={200: OfferTemplateItemSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        serializer = OfferTemplateItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.offer_template_update_item(
            item=self.get_object(), context=self.org_context, actor=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)

    def perform_destroy(self, instance):
        services.offer_template_remove_item(item=instance, context=self.org_context, actor=self.request.user)


# --- offers ------------------------------------------------------------------------------------------------


OFFER_LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=Offer.Status.values),
    OpenApiParameter(
        "search", str, description="Part of the title or of the customer's name, or the customer's identifier."
    ),
    OpenApiParameter("customer", str, description="Only the offers to this customer (ORG-XXXX-XXXX)."),
]


# What the list's representations read (`PartnerOfferSerializer`, `CustomerOfferSerializer`): the
# offer's own columns and the other side by identifier and name, not its 30 columns each (issue 13).
LIST_FIELDS = (
    *(field.name for field in Offer._meta.concrete_fields),
    "partner__public_id",
    "partner__name",
    "customer__public_id",
    "customer__name",
)


@extend_schema(parameters=[ORG], tags=["offers"])
@extend_schema_view(
    list=extend_schema(
        summary="Offers: sent ones in a partner org, received ones in a customer org",
        description="In a partner org items carry the partner's conditions (list and purchase price); in a "
        "customer org they never do.",
        responses={200: PartnerOfferSerializer(many=True)},
        parameters=OFFER_LIST_PARAMETERS,
    ),
    retrieve=extend_schema(summary="One offer", responses={200: PartnerOfferSerializer}),
)
class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Offer.objects.select_related("partner", "customer").prefetch_related(
        Prefetch("items", queryset=OfferItem.objects.order_by("position", "id"))
    )
    serializer_class = PartnerOfferSerializer
    pagination_class = CappedCountPagination  # a partner's 200,000 offers: counted up to 1,000 (issue 13)
    lookup_url_kwarg = "offer_id"
    lookup_value_regex = r"\d+"
    # the list is `offers.selectors.offer_list` (the page's too); only the ordering is left to DRF
    filter_backends = [OrderingFilter]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]
    capabilities = {
        "list": "offers.view",
        "retrieve": "offers.view",
        "create": "offers.send",
        "cancel": "offers.send",
        "retry": "offers.send",
        "accept": "offers.decide",
        "decline": "offers.decide",
    }

    def get_queryset(self):
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            filters = OfferFilters.from_params(self.request.query_params)
            # totals come from the prefetched items (the serializers), not the list's subqueries
            return (
                offer_list(scope=self.scope, filters=filters, with_totals=False)
                .only(*LIST_FIELDS)
                .prefetch_related(Prefetch("items", queryset=OfferItem.objects.order_by("position", "id")))
            )
        return super().get_queryset()

    def get_serializer_class(self):
        if side_of(self.org_context) == "customer":
            return CustomerOfferSerializer
        return PartnerOfferSerializer

    def _fresh(self, offer, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=offer.pk)).data, status=code)

    @extend_schema(
        summary="Send a template to one of your customers (OFR-3)",
        request=OfferSendSerializer,
        responses={201: PartnerOfferSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = OfferSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        offer = services.offer_send(
            context=self.org_context,
            template=data["template"],
            customer=data["customer"],
            message=data.get("message", ""),
            actor=request.user,
            allow_duplicate=data.get("allow_duplicate", False),
        )
        return self._fresh(offer, status.HTTP_201_CREATED)

    @extend_schema(summary="Withdraw an open offer (OFR-5)", request=None, responses={200: PartnerOfferSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        return self._fresh(services.offer_cancel(offer=self.get_object(), context=self.org_context, actor=request.user))

    @extend_schema(
        summary="Deliver again after delivery failed (OFR-4)", request=None, responses={200: PartnerOfferSerializer}
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        return self._fresh(
            services.offer_retry_delivery(offer=self.get_object(), context=self.org_context, actor=request.user)
        )

    @extend_schema(
        summary="Accept (customer Owner/Admin); provisions the licenses once (OFR-6)",
        request=None,
        responses={200: CustomerOfferSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        return self._fresh(services.offer_accept(offer=self.get_object(), context=self.org_context, actor=request.user))

    @extend_schema(
        summary="Decline with an optional reason (customer Owner/Admin)",
        request=OfferDeclineSerializer,
        responses={200: CustomerOfferSerializer},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs):
        serializer = OfferDeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = services.offer_decline(
            offer=self.get_object(),
            context=self.org_context,
            actor=request.user,
            reason=serializer.validated_data.get("reason", ""),
        )
        return self._fresh(offer)


# --- bulk send -----------------------------------------------------------------------------------------------


@extend_schema(parameters=[ORG], tags=["offers"])
@extend_schema_view(
    list=extend_schema(summary="Bulk sends of this partner"),
    retrieve=extend_schema(summary="Progress of one bulk send"),
)
class OfferBulkSendViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = OfferBulkSend.objects.all()
    serializer_class = OfferBulkSendSerializer
    lookup_url_kwarg = "bulk_send_id"
    lookup_value_regex = r"\d+"
    ordering = ["-created_at", "-id"]
    default_capability = "offers.send"

    @extend_schema(
        summary="Send one template to many (or all) of your customers in the background",
        request=OfferBulkSendCreateSerializer,
        responses={202: OfferBulkSendSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = OfferBulkSendCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        bulk = services.offer_bulk_send_start(
            context=self.org_context,
            template=data["template"],
            message=data.get("message", ""),
            customers=data.get("customers"),
            actor=request.user,
        )
        bulk.refresh_from_db()
        return Response(self.get_serializer(bulk).data, status=status.HTTP_202_ACCEPTED)


# --- webhook settings ------------------------------------------------------------------------------------------


@extend_schema(parameters=[ORG], tags=["offers"])
class OfferWebhookViewSet(ScopedGenericViewSet):
    """The customer's webhook for new offers (OFR-4). The secret is write-only."""

    queryset = OfferTemplate.objects.none()  # not a list of rows; the restriction is never consulted
    serializer_class = WebhookSettingsSerializer
    default_capability = "webhooks.manage"
    pagination_class = None

    def _data(self):
        endpoint = webhook_for(organization=self.org_context.organization)
        if endpoint is None:
            return {"url": "", "is_active": False, "configured": False}
        return {"url": endpoint.url, "is_active": endpoint.is_active, "configured": True}

    @extend_schema(summary="The current webhook settings", responses={200: WebhookSettingsSerializer})
    def list(self, request, *args, **kwargs):
        return Response(WebhookSettingsSerializer(self._data()).data)

    @extend_schema(
        summary="Set URL, secret and whether it is active",
        request=WebhookSettingsSerializer,
        responses={200: WebhookSettingsSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = WebhookSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.webhook_settings_save(
            context=self.org_context,
            url=data["url"],
            secret=data.get("secret", ""),
            is_active=data.get("is_active", True),
            actor=request.user,
        )
        return Response(WebhookSettingsSerializer(self._data()).data)

    @extend_schema(summary="Remove the webhook", request=None, responses={200: WebhookSettingsSerializer})
    @action(detail=False, methods=["post"])
    def remove(self, request, *args, **kwargs):
        services.webhook_settings_delete(context=self.org_context, actor=request.user)
        return Response(WebhookSettingsSerializer(self._data()).data)
