"""`/api/v1/organizations/` and what hangs on one org: customers, connection requests, audit events
(ORG-1 … ORG-4, ORG-7, ORG-8, ORG-10, ORG-11).

Thin adapters over the tenancy base classes: the org in the URL is resolved and the capability of
the action checked before any handler runs; every write is one service call whose domain errors
become the API's one error body.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from portal.api.pagination import CappedCountPagination, CappedIdsListMixin
from portal.api.schema import ORG
from portal.api.viewsets import ScopedGenericViewSet
from portal.errors import InvalidInput
from portal.tenancy import active_reseller_relation

from .. import selectors
from ..models import PROFILE_FIELDS, SUPPORT_CONTACT_FIELDS, AuditEvent, CustomerRelation, Organization, User
from ..roles import OrgKind
from ..services.archive import organization_archive
from ..services.profile import (
    organization_logo_remove,
    organization_logo_set,
    organization_update,
    support_contact_update,
)
from ..services.relations import (
    connection_accept,
    connection_cancel,
    connection_decline,
    connection_request,
    customer_create,
    relation_end,
)
from ..services.staff import staff_assign, staff_unassign
from .serializers import (
    ArchiveSerializer,
    AuditEventSerializer,
    ConnectionRequestCreateSerializer,
    ConnectionRequestSerializer,
    CustomerCreateSerializer,
    CustomerSerializer,
    LogoSerializer,
    OrganizationDetailSerializer,
    OrganizationSerializer,
    StaffMemberSerializer,
    StaffSerializer,
)

CUSTOMER = OpenApiParameter("customer", str, OpenApiParameter.PATH, description="The customer's identifier.")
ORG_REGEX = r"[^/.]+"


class OrganizationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrgKind.choices)
    search = django_filters.CharFilter(method="filter_search", label=_("Name or identifier"))

    class Meta:
        model = Organization
        fields = ["kind"]

    def filter_search(self, queryset, name, value):
        return selectors.organization_search(queryset, value)


@extend_schema(tags=["organizations"])
@extend_schema_view(
    list=extend_schema(summary="Organizations the caller may act in (own orgs and reachable customers, ORG-4)"),
    retrieve=extend_schema(summary="One organization, with the caller's role there", parameters=[ORG]),
    update=extend_schema(summary="Change the organization's details (ORG-1)", parameters=[ORG]),
    partial_update=extend_schema(summary="Change some of the organization's details (ORG-1)", parameters=[ORG]),
)
class OrganizationViewSet(
    CappedIdsListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    ScopedGenericViewSet,
):
    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    # A partner Owner reaches 10,000 orgs: counted up to 1,000, then `count` is null (issue 13).
    pagination_class = CappedCountPagination
    lookup_url_kwarg = "org"
    lookup_field = "public_id"
    lookup_value_regex = ORG_REGEX
    filterset_class = OrganizationFilter
    ordering = ["name", "id"]
    capabilities = {
        "retrieve": "organization.view",
        "update": "organization.change",
        "partial_update": "organization.change",
        "logo": "organization.change",
        "support_contact": "support_contact.change",
        "end_reseller_relation": "customer_relation.end",
    }

    def initial(self, request, *args, **kwargs):
        # The list is across orgs; everything else acts in the org of the URL.
        self.org_scoped = self.lookup_url_kwarg in self.kwargs
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            super().get_queryset()  # the base checks (authenticated, tenancy registered)
            # the restriction's orgs in a shape whose page costs the page size (issue 13)
            return selectors.reachable_organizations(self.request.user).order_by("name", "id")
        return super().get_queryset().order_by("name", "id")

    def page_rows(self, ids: list[int]) -> list[Organization]:
        """The page's orgs by the ids the restricted list gave (`CappedIdsListMixin`), in their order."""
        by_id = Organization.objects.in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]

    def get_object(self):
        self.check_object_permissions(self.request, self.org_context.organization)
        return self.org_context.organization

    def get_serializer_class(self):
        return OrganizationSerializer if self.action == "list" else OrganizationDetailSerializer

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        support = {key: data.pop(key) for key in list(data) if key in SUPPORT_CONTACT_FIELDS}
        data = {key: value for key, value in data.items() if key in PROFILE_FIELDS}
        if support and not self.org_context.organization.is_partner:
            raise InvalidInput(_("Only partner organizations have a support contact."), field=next(iter(support)))
        if data:
            organization_update(context=self.org_context, actor=self.request.user, **data)
        if support:
            support_contact_update(context=self.org_context, actor=self.request.user, **support)
        serializer.instance = self.org_context.organization

    @extend_schema(
        summary="Upload (PUT, multipart) or remove (DELETE) the logo (ORG-8)",
        parameters=[ORG],
        request={"multipart/form-data": LogoSerializer},
        responses={200: OrganizationDetailSerializer},
    )
    @action(detail=True, methods=["put", "delete"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def logo(self, request, *args, **kwargs):
        if request.method == "DELETE":
            organization_logo_remove(context=self.org_context, actor=request.user)
        else:
            upload = request.FILES.get("logo")
            if upload is None:
                raise InvalidInput(_("Upload a file in the field “logo”."), field="logo")
            organization_logo_set(context=self.org_context, actor=request.user, upload=upload)
        return Response(
            OrganizationDetailSerializer(self.org_context.organization, context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="End the relation to the reseller (the customer's Owner/Admin, ORG-3)",
        parameters=[ORG],
        request=None,
        responses={200: ConnectionRequestSerializer},
    )
    @action(detail=True, methods=["post"], url_path="end-reseller-relation")
    def end_reseller_relation(self, request, *args, **kwargs):
        relation = active_reseller_relation(self.org_context.organization)
        if relation is None:
            raise InvalidInput(_("This organization has no reseller."))
        relation = relation_end(relation=relation, context=self.org_context, actor=request.user)
        return Response(ConnectionRequestSerializer(relation, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Set the partner's support contact shown to its customers (ORG-8)",
        parameters=[ORG],
        request=OrganizationSerializer(partial=True),
        responses={200: OrganizationDetailSerializer},
    )
    @action(detail=True, methods=["put"], url_path="support-contact")
    def support_contact(self, request, *args, **kwargs):
        serializer = OrganizationSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = {k: v for k, v in serializer.validated_data.items() if k in SUPPORT_CONTACT_FIELDS}
        support_contact_update(context=self.org_context, actor=request.user, **fields)
        return Response(
            OrganizationDetailSerializer(self.org_context.organization, context=self.get_serializer_context()).data
        )


class CustomerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Organization.Status.choices)
    search = django_filters.CharFilter(method="filter_search", label=_("Name or identifier"))

    class Meta:
        model = Organization
        fields = ["status"]

    def filter_search(self, queryset, name, value):
        return selectors.organization_search(queryset, value)


@extend_schema(tags=["organizations"], parameters=[ORG])
@extend_schema_view(
    list=extend_schema(summary="The partner's customers the caller may reach (paginated, searchable, ORG-4/ORG-11)"),
    retrieve=extend_schema(summary="One customer", parameters=[CUSTOMER]),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """`/organizations/{org}/customers/`: customers of the partner org in the URL."""

    queryset = Organization.objects.all()
    serializer_class = CustomerSerializer
    pagination_class = CappedCountPagination  # 10,000 customers: counted up to 1,000 (issue 13)
    lookup_url_kwarg = "customer"
    lookup_field = "public_id"
    lookup_value_regex = ORG_REGEX
    filterset_class = CustomerFilter
    capabilities = {
        "list": "customers.view",
        "retrieve": "customers.view",
        "staff": "customers.view",
        "create": "customers.manage",
        "end_relation": "customers.manage",
        "archive": "customers.manage",
        "assign_staff": "staff.assign",
        "unassign_staff": "staff.assign",
    }

    def get_queryset(self):
        # The restriction for customers is the partner's customer list itself (SQL, ORG-11);
        # archived customers stay visible (status filter) so support can be asked to restore.
        super().get_queryset()  # runs the base checks (authenticated, tenancy registered)
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        status_param = self.request.query_params.get("status", "")
        return selectors.customer_list(context=self.org_context, status=status_param)

    def get_object(self):
        return selectors.customer_for_partner(context=self.org_context, public_id=self.kwargs["customer"])

    @extend_schema(
        summary="Create a customer org with a contact person invited as Owner (ORG-2)",
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contact = data.pop("contact")
        create_anyway = data.pop("create_anyway", False)
        relation = customer_create(
            context=self.org_context,
            actor=request.user,
            contact_email=contact["email"],
            contact_first_name=contact["first_name"],
            contact_last_name=contact["last_name"],
            contact_language=contact.get("language"),
            contact_initial_password=contact.get("initial_password"),
            create_anyway=create_anyway,
            **data,
        )
        return Response(CustomerSerializer(relation.customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="End the relation; the partner's access ends at once (ORG-3)",
        parameters=[CUSTOMER],
        request=None,
        responses={200: ConnectionRequestSerializer},
    )
    @action(detail=True, methods=["post"], url_path="end-relation")
    def end_relation(self, request, *args, **kwargs):
        customer = self.get_object()
        relation = active_reseller_relation(customer)
        if relation is None or relation.partner_id != self.org_context.organization.pk:
            raise InvalidInput(_("This organization is no longer your customer."))
        relation = relation_end(relation=relation, context=self.org_context, actor=request.user)
        return Response(ConnectionRequestSerializer(relation, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Archive (delete) the customer org, confirmed by its name (ORG-7)",
        parameters=[CUSTOMER],
        request=ArchiveSerializer,
        responses={200: CustomerSerializer},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, *args, **kwargs):
        serializer = ArchiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = organization_archive(
            context=self.org_context,
            customer=self.get_object(),
            confirm_name=serializer.validated_data["confirm_name"],
            actor=request.user,
        )
        return Response(CustomerSerializer(customer).data)

    @extend_schema(
        summary="Partner staff reaching this customer (ORG-11)",
        parameters=[CUSTOMER],
        responses={200: StaffMemberSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def staff(self, request, *args, **kwargs):
        staff = selectors.staff_for_customer(partner=self.org_context.organization, customer=self.get_object())
        rows = [{"user": m.user, "role": m.role, "assigned": False} for m in staff["managers"]]
        rows += [{"user": m.user, "role": m.role, "assigned": True} for m in staff["assigned"]]
        return Response(StaffMemberSerializer(rows, many=True).data)

    def _staff_change(self, request, func):
        serializer = StaffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = User.objects.filter(email__iexact=serializer.validated_data["user"]).first()
        func(
            context=self.org_context, customer=self.get_object(), user_id=user.pk if user else None, actor=request.user
        )
        return self.staff(request)

    @extend_schema(
        summary="Assign a partner Member or Guest to this customer (ORG-11)",
        parameters=[CUSTOMER],
        request=StaffSerializer,
        responses={200: StaffMemberSerializer(many=True)},
    )
    @action(detail=True, methods=["post"], url_path="assign-staff")
    def assign_staff(self, request, *args, **kwargs):
        return self._staff_change(request, staff_assign)

    @extend_schema(
        summary="Remove a staff assignment (ORG-11)",
        parameters=[CUSTOMER],
        request=StaffSerializer,
        responses={200: StaffMemberSerializer(many=True)},
    )
    @action(detail=True, methods=["post"], url_path="unassign-staff")
    def unassign_staff(self, request, *args, **kwargs):
        return self._staff_change(request, staff_unassign)


class ConnectionRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CustomerRelation.Status.choices)

    class Meta:
        model = CustomerRelation
        fields = ["status"]


@extend_schema(tags=["organizations"], parameters=[ORG])
@extend_schema_view(
    list=extend_schema(summary="Connection requests and relations of this org, on either side (ORG-3)"),
    retrieve=extend_schema(summary="One connection request"),
)
class ConnectionRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = CustomerRelation.objects.select_related("partner", "customer")
    serializer_class = ConnectionRequestSerializer
    lookup_url_kwarg = "relation_id"
    lookup_value_regex = r"\d+"
    filterset_class = ConnectionRequestFilter
    ordering = ["-created_at", "-id"]
    capabilities = {
        # Reading is the Open requests page's `requests.view`; deciding is the consent.
        "list": "requests.view",
        "retrieve": "requests.view",
        "accept": "requests.decide",
        "decline": "requests.decide",
        "create": "customers.manage",
        "cancel": "customers.manage",
    }

    def get_queryset(self):
        return super().get_queryset().order_by("-created_at", "-id")

    def _fresh(self, relation):
        return Response(self.get_serializer(self.get_queryset().get(pk=relation.pk)).data)

    @extend_schema(
        summary="Ask an org, by its identifier, to accept this partner as reseller",
        request=ConnectionRequestCreateSerializer,
        responses={201: ConnectionRequestSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = ConnectionRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        relation = connection_request(context=self.org_context, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(relation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Accept (the asked customer's Owner/Admin)", request=None, responses={200: ConnectionRequestSerializer}
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        return self._fresh(connection_accept(relation=self.get_object(), context=self.org_context, actor=request.user))

    @extend_schema(
        summary="Decline (the asked customer's Owner/Admin)", request=None, responses={200: ConnectionRequestSerializer}
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs):
        return self._fresh(connection_decline(relation=self.get_object(), context=self.org_context, actor=request.user))

    @extend_schema(
        summary="Withdraw an open request (the partner)", request=None, responses={200: ConnectionRequestSerializer}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        return self._fresh(connection_cancel(relation=self.get_object(), context=self.org_context, actor=request.user))


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(lookup_expr="istartswith")
    customers = django_filters.BooleanFilter(
        method="filter_customers",
        label=_("Partner orgs: include the trails of the customers the caller reaches"),
    )
    origin = django_filters.ChoiceFilter(
        choices=[("external", "external"), ("own", "own")],
        method="filter_origin",
        label=_("external: done by partner staff or caretakers; own: by this org's accounts"),
    )

    class Meta:
        model = AuditEvent
        fields = ["action"]

    def filter_customers(self, queryset, name, value):
        return queryset  # widens the restriction instead (AuditEventViewSet.get_queryset)

    def filter_origin(self, queryset, name, value):
        return selectors.audit_origin_filter(queryset, value)


@extend_schema(tags=["organizations"], parameters=[ORG])
@extend_schema_view(list=extend_schema(summary="The org's audit trail, newest first (ORG-10)"))
class AuditEventViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    queryset = AuditEvent.objects.select_related("acting_organization")
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    default_capability = "audit.view"

    def get_queryset(self):
        if str(self.request.query_params.get("customers", "")).lower() in ("1", "true"):
            self.restriction_actions = {"list": "view_with_customers"}
        return super().get_queryset().select_related("organization", "actor").order_by("-created_at", "-id")
