"""`/api/v1/subscriptions/` and `/api/v1/organizations/{org}/subscriptions/` (BIL-1 … BIL-4, PRJ-5).

Thin adapters over the tenancy base classes and `billing.services`:
- list/retrieve need "billing.view", create/quantity change/cancel "billing.manage" (ORG-6: the
  customer's own accounts of a partner-linked org, caretakers and guests get 404);
- across orgs the restriction lists exactly the orgs where the user holds "billing.view", and each
  write resolves the subscription's org and checks the capability there;
- a service for a project (`project` in the body) needs the project's order permission instead.
"""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from offers.models import Product
from organizations.models import Organization
from portal.api.viewsets import ScopedGenericViewSet
from portal.errors import InvalidInput, NotFound
from portal.tenancy import OrgContext, capability_q, org_context_for, org_context_for_organization
from projects.selectors import project_for_user

from .. import services
from ..models import Subscription
from ..selectors import subscription_list
from .serializers import (
    QuantitySerializer,
    ServiceOrderSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
)


class SubscriptionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Subscription.Status.choices, field_name="current_status", label=gettext_lazy("Status as of now")
    )
    source = django_filters.ChoiceFilter(choices=Subscription.Source.choices)
    organization = django_filters.CharFilter(method="filter_organization", label=gettext_lazy("Subscriber identifier"))
    product = django_filters.CharFilter(
        field_name="product__sku", lookup_expr="iexact", label=gettext_lazy("Product SKU")
    )
    project = django_filters.CharFilter(
        field_name="project__number", lookup_expr="iexact", label=gettext_lazy("Project number")
    )

    class Meta:
        model = Subscription
        fields: list[str] = []

    def filter_organization(self, queryset, name, value):
        # An org whose subscriptions the caller may not see is a 404, as `/o/<org>/billing/` is (issue 12).
        organization = (
            Organization.objects.filter(public_id=value.strip().upper())
            .filter(capability_q(self.request.user, "billing.view"))
            .first()
        )
        if organization is None:
            raise NotFound(_("Not found."))
        return queryset.filter(organization=organization)


ORG = OpenApiParameter("org", str, OpenApiParameter.PATH, description="The organization's identifier (ORG-XXXX-XXXX).")


@extend_schema_view(
    list=extend_schema(summary="Subscriptions, with add-ons, trials and ordered services (BIL-1)"),
    retrieve=extend_schema(summary="One subscription"),
)
class _SubscriptionViewSetBase(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Subscription.objects.all()
    serializer_class = SubscriptionSerializer
    lookup_url_kwarg = "subscription_id"
    lookup_value_regex = r"\d+"
    filterset_class = SubscriptionFilter
    search_fields = ["product__sku", "product__name_en", "product__name_de", "organization__name"]
    ordering_fields = ["created_at", "term_ends_at", "quantity"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "list": "billing.view",
        "retrieve": "billing.view",
        "create": "billing.manage",
        "partial_update": "billing.manage",
        "cancel": "billing.manage",
    }

    def get_queryset(self):
        return subscription_list(queryset=super().get_queryset())

    def _context_for(self, organization) -> OrgContext:
        """The org context of a write: the URL's org, or the subscription's org across orgs."""
        context = self.org_context or org_context_for_organization(self.request.user, organization)
        context.require("billing.manage")
        return context

    def _fresh(self, subscription: Subscription, status_code=status.HTTP_200_OK) -> Response:
        row = subscription_list().get(pk=subscription.pk)
        return Response(self.get_serializer(row).data, status=status_code)

    @extend_schema(
        summary="Book a subscription or add-on (BIL-3), or order a service for a project (PRJ-5)",
        description=(
            "An order with obligation to pay: `confirm_obligation_to_pay` must be `true`. The invoice "
            "recipient and the price are set by the portal (BIL-4): the reseller partner at partner "
            "conditions for a linked customer, otherwise the organization itself at list price."
        ),
        request=SubscriptionCreateSerializer,
        responses={201: SubscriptionSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        product = Product.objects.filter(sku__iexact=data["product"].strip()).first()
        if product is None:
            raise InvalidInput(_("Unknown product."), field="product")
        if data.get("project"):
            project = project_for_user(user=request.user, number=data["project"].strip(), annotate=True)
            if self.org_context is not None and project.organization_id != self.org_context.organization.pk:
                raise NotFound(_("Not found."))
            subscription = services.service_order(
                project=project,
                product=product,
                quantity=data["quantity"],
                confirm_obligation_to_pay=data["confirm_obligation_to_pay"],
                actor=request.user,
            )
            if not self.get_queryset().filter(pk=subscription.pk).exists():
                # Ordered by someone who may not see the org's billing (e.g. the customer's own
                # Owner of a partner-linked org): no prices, no payer – partner conditions stay hidden.
                return Response(ServiceOrderSerializer(subscription).data, status=status.HTTP_201_CREATED)
            return self._fresh(subscription, status.HTTP_201_CREATED)
        context = self.org_context
        if context is None:
            if not data.get("organization"):
                raise InvalidInput(_("This field is required."), field="organization")
            context = org_context_for(request.user, data["organization"].strip())
        context.require("billing.manage")
        parent = None
        if data.get("parent"):
            parent = Subscription.objects.filter(pk=data["parent"], organization=context.organization).first()
            if parent is None:
                raise InvalidInput(
                    _("Add-ons can only be booked to a subscription of this organization."), field="parent"
                )
        subscription = services.subscription_book(
            context=context,
            product=product,
            quantity=data["quantity"],
            parent=parent,
            confirm_obligation_to_pay=data["confirm_obligation_to_pay"],
            actor=request.user,
        )
        return self._fresh(subscription, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change the quantity from now on (BIL-3)",
        request=QuantitySerializer,
        responses={200: SubscriptionSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        subscription = self.get_object()
        serializer = QuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_change_quantity(
            subscription=subscription,
            quantity=serializer.validated_data["quantity"],
            actor=request.user,
            context=self._context_for(subscription.organization),
        )
        return self._fresh(subscription)

    @extend_schema(
        summary="Cancel at the end of the current term (BIL-3); add-ons end with it",
        request=None,
        responses={200: SubscriptionSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        subscription = self.get_object()
        with transaction.atomic():
            subscription = services.subscription_cancel(
                subscription=subscription, actor=request.user, context=self._context_for(subscription.organization)
            )
        return self._fresh(subscription)


@extend_schema(tags=["subscriptions"])
class SubscriptionViewSet(_SubscriptionViewSetBase):
    """Subscriptions of every organization where you may see billing (filter with `organization`)."""

    org_scoped = False


@extend_schema(parameters=[ORG], tags=["subscriptions"])
class OrganizationSubscriptionViewSet(_SubscriptionViewSetBase):
    """Subscriptions of the organization in the URL."""
