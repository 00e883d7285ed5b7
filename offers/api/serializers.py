"""API representations of offers. Two sides, two sets of serializers (OFR-3):

- `Partner…` serializers (partner org in the URL) carry the partner's conditions: list price and
  the partner's purchase price per item;
- `Customer…` serializers (customer org in the URL) carry only what the customer pays. They are
  built from an explicit field list without any purchase or list price, so a new model field can
  never leak to customers by accident.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import ModelSerializer

from ..models import LicenseMode, Offer, OfferBulkSend, OfferItem, OfferTemplate, OfferTemplateItem, Product
from ..services import MAX_MESSAGE, MAX_NAME

MONEY = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)


class OfferOrganizationSerializer(serializers.Serializer):
    public_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class CatalogProductSerializer(ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "kind", "name_en", "name_de", "term_months", "list_price"]
        read_only_fields = fields


# --- templates (partner only) -------------------------------------------------------------------------


class OfferTemplateItemSerializer(ModelSerializer):
    product = CatalogProductSerializer(read_only=True)
    total_price = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = OfferTemplateItem
        fields = ["id", "product", "quantity", "term_months", "license_mode", "unit_price", "total_price", "position"]
        read_only_fields = fields


class OfferTemplateItemCreateSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text=_("Id of an available catalog product."))


class OfferTemplateItemUpdateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=100000)
    term_months = serializers.IntegerField(required=False, min_value=1, max_value=120)
    license_mode = serializers.ChoiceField(choices=LicenseMode.choices, required=False)
    unit_price = serializers.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text=_("Selling price per license and month (EUR)."),
    )


class OfferTemplateSerializer(ModelSerializer):
    items = OfferTemplateItemSerializer(many=True, read_only=True)

    class Meta:
        model = OfferTemplate
        fields = ["id", "name", "items", "created_at", "updated_at"]
        read_only_fields = ["id", "items", "created_at", "updated_at"]


class OfferTemplateNameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME)


# --- offers: partner side -----------------------------------------------------------------------------


class PartnerOfferItemSerializer(ModelSerializer):
    total_price = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    purchase_total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = OfferItem
        fields = [
            "id",
            "product",
            "sku",
            "kind",
            "name_en",
            "name_de",
            "quantity",
            "term_months",
            "license_mode",
            "ends_on",
            "list_price",
            "purchase_price",
            "unit_price",
            "total_price",
            "purchase_total",
        ]
        read_only_fields = fields


class PartnerOfferSerializer(ModelSerializer):
    customer = OfferOrganizationSerializer(read_only=True)
    items = PartnerOfferItemSerializer(many=True, read_only=True)
    total = serializers.SerializerMethodField()
    purchase_total = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "id",
            "title",
            "customer",
            "template",
            "bulk_send",
            "status",
            "message",
            "decline_reason",
            "items",
            "total",
            "purchase_total",
            "delivery_attempt",
            "last_delivery_error",
            "created_at",
            "delivered_at",
            "decided_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    @extend_schema_field(MONEY)
    def get_total(self, offer) -> str:
        return str(sum((item.total_price for item in offer.items.all()), Decimal("0.00")))

    @extend_schema_field(MONEY)
    def get_purchase_total(self, offer) -> str:
        return str(sum((item.purchase_total for item in offer.items.all()), Decimal("0.00")))


class OfferSendSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=16, help_text=_("Identifier of one of your customer organizations."))
    template = serializers.IntegerField(help_text=_("Id of one of your offer templates."))
    message = serializers.CharField(required=False, allow_blank=True, max_length=MAX_MESSAGE)
    allow_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Send even though an open offer of the same template or with the same products waits at this "
            "customer (otherwise 409 duplicate_offer, with the existing offer in the details)."
        ),
    )


# --- offers: customer side ----------------------------------------------------------------------------


class CustomerOfferItemSerializer(serializers.Serializer):
    """Explicit fields only – no list price, no purchase price (OFR-3)."""

    id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Product.Kind.choices, read_only=True)
    name_en = serializers.CharField(read_only=True)
    name_de = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    term_months = serializers.IntegerField(read_only=True)
    license_mode = serializers.ChoiceField(choices=LicenseMode.choices, read_only=True)
    ends_on = serializers.DateField(read_only=True, allow_null=True)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    total_price = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)


class CustomerOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    partner = OfferOrganizationSerializer(read_only=True)
    status = serializers.ChoiceField(choices=Offer.Status.choices, read_only=True)
    message = serializers.CharField(read_only=True)
    decline_reason = serializers.CharField(read_only=True)
    items = CustomerOfferItemSerializer(many=True, read_only=True, source="items.all")
    total = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)

    @extend_schema_field(MONEY)
    def get_total(self, offer) -> str:
        return str(sum((item.total_price for item in offer.items.all()), Decimal("0.00")))


class OfferDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=MAX_MESSAGE)


# --- bulk send ---------------------------------------------------------------------------------------


class OfferBulkSendSerializer(ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = OfferBulkSend
        fields = [
            "id",
            "title",
            "template",
            "message",
            "total",
            "sent_count",
            "skipped_count",
            "progress_percent",
            "status",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class OfferBulkSendCreateSerializer(serializers.Serializer):
    template = serializers.IntegerField(help_text=_("Id of one of your offer templates."))
    message = serializers.CharField(required=False, allow_blank=True, max_length=MAX_MESSAGE)
    customers = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        allow_empty=False,
        max_length=20000,
        help_text=_("Identifiers of customer organizations; omit to send to all your customers."),
    )


# --- webhook settings (customer) ----------------------------------------------------------------------


class WebhookSettingsSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("At least 16 characters; omit to keep the current secret."),
    )
    is_active = serializers.BooleanField(required=False, default=True)
    configured = serializers.BooleanField(read_only=True)
