"""API representations of subscriptions (`/api/v1/subscriptions/`, BIL-1 … BIL-4, PRJ-5)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.api.serializers import ModelSerializer

from ..models import Subscription
from ..money import line_amount
from ..services import MAX_QUANTITY


class BillingOrganizationSerializer(serializers.Serializer):
    public_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class SubscriptionProductSerializer(serializers.Serializer):
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)


class SubscriptionSerializer(ModelSerializer):
    organization = BillingOrganizationSerializer(read_only=True, help_text=_("The subscriber."))
    payer = BillingOrganizationSerializer(
        read_only=True,
        help_text=_(
            "The invoice recipient (BIL-4), set automatically: the reseller partner of a linked customer, else the organization itself."
        ),
    )
    product = SubscriptionProductSerializer(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("Add-ons: the main subscription.")
    )
    project = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    status = serializers.ChoiceField(
        choices=Subscription.Status.choices,
        source="current_status",
        read_only=True,
        help_text=_("As of now: a trial or fixed term past its end reads as expired."),
    )
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, coerce_to_string=True)
    monthly_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        coerce_to_string=True,
        help_text=_("Net EUR per month: quantity × unit price, rounded half-up to cents."),
    )
    in_force = serializers.SerializerMethodField(help_text=_("Whether the licences count now."))

    class Meta:
        model = Subscription
        fields = [
            "id",
            "organization",
            "payer",
            "product",
            "parent",
            "project",
            "source",
            "status",
            "in_force",
            "quantity",
            "unit_price",
            "monthly_amount",
            "term_months",
            "license_mode",
            "renews",
            "starts_at",
            "term_ends_at",
            "ends_at",
            "cancelled_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_in_force(self, subscription: Subscription) -> bool:
        return subscription.is_in_force()


# How the serializer shows a moment (ModelSerializer's field for a model's DateTimeField).
_MOMENT = serializers.DateTimeField(read_only=True)


def subscription_rows_data(rows: list[dict]) -> list[dict]:
    """What `SubscriptionSerializer(many=True).data` gives for the plain rows of the API's list
    (`billing.selectors.subscription_rows`), field for field (a test compares each row with the
    subscription's detail), with the serializer's own fields formatting amounts and moments.

    Issue 13: DRF's per-field machinery over five model instances per row (the subscription and
    its joined orgs, product and project) was the largest part of a page's Python time."""
    unit_price = SubscriptionSerializer._declared_fields["unit_price"].to_representation
    monthly_amount = SubscriptionSerializer._declared_fields["monthly_amount"].to_representation

    def moment(value):
        return None if value is None else _MOMENT.to_representation(value)

    german = (get_language() or "en").startswith("de")  # as offers.Product.name
    now = timezone.now()
    return [
        {
            "id": row["id"],
            "organization": {"public_id": row["organization__public_id"], "name": row["organization__name"]},
            "payer": {"public_id": row["payer__public_id"], "name": row["payer__name"]},
            "product": {
                "sku": row["product__sku"],
                "name": row["product__name_de"] if german else row["product__name_en"],
                "kind": row["product__kind"],
            },
            "parent": row["parent_id"],
            "project": row["project__number"],
            "source": row["source"],
            "status": row["current_status"],
            "in_force": Subscription.values_in_force(
                status=row["status"], starts_at=row["starts_at"], ends_at=row["ends_at"], at=now
            ),
            "quantity": row["quantity"],
            "unit_price": unit_price(row["unit_price"]),
            "monthly_amount": monthly_amount(line_amount(quantity=row["quantity"], unit_price=row["unit_price"])),
            "term_months": row["term_months"],
            "license_mode": row["license_mode"],
            "renews": row["renews"],
            "starts_at": moment(row["starts_at"]),
            "term_ends_at": moment(row["term_ends_at"]),
            "ends_at": moment(row["ends_at"]),
            "cancelled_at": moment(row["cancelled_at"]),
            "created_at": moment(row["created_at"]),
        }
        for row in rows
    ]


class ServiceOrderCreateSerializer(serializers.Serializer):
    """A service for a project (PRJ-5), at `/api/v1/projects/{project_number}/services/`."""

    product = serializers.CharField(max_length=64, help_text=_("The product's SKU."))
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    confirm_obligation_to_pay = serializers.BooleanField(
        help_text=_("Must be true: you order with obligation to pay."),
    )

    def to_internal_value(self, data):
        # Only a JSON true confirms an order with obligation to pay (never "yes", 1 or "true").
        value = data.get("confirm_obligation_to_pay") if hasattr(data, "get") else None
        result = super().to_internal_value(data)
        result["confirm_obligation_to_pay"] = value is True
        return result


class SubscriptionCreateSerializer(ServiceOrderCreateSerializer):
    """A booking (BIL-3) or an add-on (with `parent`) for the org in the URL."""

    parent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text=_("Book an add-on to this subscription.")
    )


class QuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class ServiceOrderSerializer(ModelSerializer):
    """What someone ordering a project service sees who may not see the org's billing."""

    product = SubscriptionProductSerializer(read_only=True)
    project = serializers.SlugRelatedField(slug_field="number", read_only=True)
    status = serializers.ChoiceField(choices=Subscription.Status.choices, source="current_status", read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "product", "project", "quantity", "status", "starts_at", "term_ends_at"]
        read_only_fields = fields
