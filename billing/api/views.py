"""`/api/v1/subscriptions/`, `/api/v1/organizations/{org}/subscriptions/` (BIL-1 … BIL-4) and
`/api/v1/projects/{project_number}/services/` (PRJ-5).

Thin adapters over the tenancy base classes and `billing.services`:
- list/retrieve need "billing.view", create/quantity change/cancel "billing.manage" (ORG-6: the
  customer's own accounts of a partner-linked org, caretakers and guests get 404);
- a booking names its org in the URL (`/api/v1/organizations/{org}/subscriptions/`; the flat
  POST answers 405); across orgs the restriction lists exactly the orgs where the user holds
  "billing.view", and each change resolves the subscription's org and checks the capability there;
- a service for a project is ordered at the project's URL and needs the project's order
  permission instead (PRJ-3 project Admins too).
"""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.db.models import Count, Window
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from offers.models import Product
from organizations.models import Organization
from portal.api.filters import RequestedFilterBackend
from portal.api.pagination import CappedCountPagination, CappedIdsListMixin
from portal.api.schema import ORG
from portal.api.viewsets import ScopedGenericViewSet
from portal.errors import InvalidInput, NotFound
from portal.tenancy import OrgContext, capability_q, org_context_for_organization
from projects.roles import ProjectAction
from projects.selectors import project_for_user, project_require

from .. import services
from ..models import Subscription
from ..selectors import subscription_api_rows, subscription_list, subscription_restrict_few, subscription_rows
from .serializers import (
    QuantitySerializer,
    ServiceOrderCreateSerializer,
    ServiceOrderSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    subscription_rows_data,
)

PROJECT_NUMBER = OpenApiParameter(
    "project_number", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's number, e.g. p-10042."
)


def _product(sku: str) -> Product:
    product = Product.objects.filter(sku__iexact=sku.strip()).first()
    if product is None:
        raise InvalidInput(_("Unknown product."), field="product")
    return product


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
    filter_backends = [RequestedFilterBackend, SearchFilter, OrderingFilter]  # issue 13: no filterset unless asked
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
        if self.action == "retrieve":  # only what the representation shows (issue 13)
            return subscription_api_rows(queryset=super().get_queryset())
        if self.action == "list":  # a page of ids first (`paginate_queryset`); the status filter reads this
            return super().get_queryset().with_current_status()
        return subscription_list(queryset=super().get_queryset())

    def list(self, request, *args, **kwargs):
        """`ListModelMixin.list` with the page as plain rows (`paginate_queryset`) and their
        representation built from them (`subscription_rows_data`, the serializer's field for field)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(subscription_rows_data(page))

    def paginate_queryset(self, queryset):
        """The list pages the bare ids, then loads the page's rows (`subscription_rows`).

        Issue 13: across a partner's 10,000 customer orgs, each query of the list works out the
        orgs the user reaches again; the page of ids and the total come from one query (a window
        count) instead of a COUNT and a page. Anything but a plain page number (`last`, a page past
        the end, bad input) takes the paginator's usual way, with its usual answers."""
        if self.action != "list":
            return super().paginate_queryset(queryset)
        keys = queryset.values_list("pk", flat=True)
        pagination = self.paginator
        size = pagination.get_page_size(self.request)
        number = self.request.query_params.get(pagination.page_query_param, "1")
        if not (size and number.isdigit() and int(number) >= 1):
            return self._paginate_ids(keys)
        offset = (int(number) - 1) * size
        counted = queryset.annotate(total=Window(Count("pk"))).values_list("pk", "total")
        rows = list(counted[offset : offset + size])
        if not rows and offset:
            return self._paginate_ids(keys)  # past the end: the paginator's 404
        paginator = pagination.django_paginator_class(keys, size)
        paginator.count = rows[0][1] if rows else 0  # known: saves the COUNT
        pagination.request = self.request
        pagination.page = paginator.page(int(number))  # lazy: its slice is never evaluated
        return subscription_rows([pk for pk, _total in rows])

    def _paginate_ids(self, keys):
        page = super().paginate_queryset(keys)
        return None if page is None else subscription_rows(list(page))

    def _context_for(self, organization) -> OrgContext:
        """The org context of a write: the URL's org, or the subscription's org across orgs."""
        context = self.org_context or org_context_for_organization(self.request.user, organization)
        context.require("billing.manage")
        return context

    def _fresh(self, subscription: Subscription, status_code=status.HTTP_200_OK) -> Response:
        row = subscription_list().get(pk=subscription.pk)
        return Response(self.get_serializer(row).data, status=status_code)

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
class SubscriptionViewSet(CappedIdsListMixin, _SubscriptionViewSetBase):
    """Subscriptions of every organization where you may see billing (filter with `organization`).
    No create here: a booking names its org in the URL (`/api/v1/organizations/{org}/subscriptions/`)."""

    org_scoped = False
    pagination_class = CappedCountPagination

    def get_queryset(self):
        if self.action == "list" or getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        if not getattr(self.request.user, "is_authenticated", False):
            return Subscription.objects.none()  # as `portal.tenancy.restrict` answers the anonymous
        # one subscription by id: the restriction's rule per row, not the list of every org (issue 13);
        # not the list's restriction as well (built and thrown away: the reach's key sets, a query)
        queryset = subscription_restrict_few(Subscription.objects.all(), user=self.request.user)
        if self.action == "retrieve":
            return subscription_api_rows(queryset=queryset)
        return subscription_list(queryset=queryset)

    def page_rows(self, ids: list[int]) -> list:
        """The page's rows (`subscription_rows`): a partner's Owner reaches 20,000 subscriptions,
        counted up to 1,000 (`count` null and `count_capped` true beyond; `CappedIdsListMixin`)."""
        return subscription_rows(ids)


@extend_schema(parameters=[ORG], tags=["subscriptions"])
class OrganizationSubscriptionViewSet(_SubscriptionViewSetBase):
    """Subscriptions of the organization in the URL."""

    @extend_schema(
        summary="Book a subscription or add-on for this organization (BIL-3)",
        description=(
            "An order with obligation to pay: `confirm_obligation_to_pay` must be `true`. The invoice "
            "recipient and the price are set by the portal (BIL-4): the reseller partner at partner "
            "conditions for a linked customer, otherwise the organization itself at list price. "
            "Services for a project are ordered at `/api/v1/projects/{project_number}/services/`."
        ),
        request=SubscriptionCreateSerializer,
        responses={201: SubscriptionSerializer},
    )
    def create(self, request, *args, **kwargs):
        if hasattr(request.data, "get") and request.data.get("project"):
            # Not silently booked for the org: a service order is the project's (PRJ-5).
            raise InvalidInput(
                _("Order services for a project at /api/v1/projects/<number>/services/."), field="project"
            )
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        product = _product(data["product"])
        context = self.org_context  # the org in the URL, resolved and checked by the base class
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


@extend_schema(tags=["subscriptions"], parameters=[PROJECT_NUMBER])
class ProjectServiceOrderViewSet(ScopedGenericViewSet):
    """`/api/v1/projects/{project_number}/services/`: order a catalog service for a project (PRJ-5).

    Project-scoped like the project page's services: the project's "order paid services"
    permission decides (project Admins – also end customers without an org role, PRJ-3 – and the
    org's and the reseller's Owners/Admins), not the org's billing capability."""

    org_scoped = False
    queryset = Subscription.objects.all()
    serializer_class = SubscriptionSerializer

    @extend_schema(
        summary="Order a service for this project (PRJ-5)",
        description=(
            "An order with obligation to pay: `confirm_obligation_to_pay` must be `true`; billed per "
            "BIL-4. Callers who may not see the org's billing get the order without prices or payer."
        ),
        request=ServiceOrderCreateSerializer,
        responses={201: SubscriptionSerializer},
    )
    def create(self, request, *args, **kwargs):
        project = project_for_user(user=request.user, number=self.kwargs["project_number"], annotate=True)
        # 403 before the body is read, as on the project page; the service checks it again.
        project_require(user=request.user, project=project, action=ProjectAction.ORDER_SERVICES)
        serializer = ServiceOrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = services.service_order(
            project=project,
            product=_product(data["product"]),
            quantity=data["quantity"],
            confirm_obligation_to_pay=data["confirm_obligation_to_pay"],
            actor=request.user,
        )
        row = subscription_list(queryset=self.get_queryset()).filter(pk=subscription.pk).first()
        if row is None:
            # Ordered by someone who may not see the org's billing (e.g. the customer's own Owner
            # of a partner-linked org, a project Admin): no prices, no payer – partner conditions stay hidden.
            return Response(ServiceOrderSerializer(subscription).data, status=status.HTTP_201_CREATED)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)
