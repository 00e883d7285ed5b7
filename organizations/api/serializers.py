"""API representations of organizations, customers, connection requests and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.fields import CountryField
from portal.api.serializers import ModelSerializer

from ..models import PROFILE_FIELDS, SUPPORT_CONTACT_FIELDS, AuditEvent, CustomerRelation, Organization
from ..roles import OrgRole

# Named choice sets for the OpenAPI schema (ENUM_NAME_OVERRIDES in portal/settings/base.py).
CONNECTION_DIRECTIONS = [("incoming", "incoming"), ("outgoing", "outgoing")]


def country_choices() -> list:
    from django_countries import countries

    return [(code, str(name)) for code, name in countries]


class OrganizationSummarySerializer(serializers.Serializer):
    public_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class LinksSerializer(serializers.Serializer):
    detail = serializers.CharField()
    customers = serializers.CharField(allow_null=True)
    connection_requests = serializers.CharField()
    audit_events = serializers.CharField()


# The links of an org, by route; "customers" only for partners.
_LINK_ROUTES = {
    "detail": "organization-api-detail",
    "customers": "customer-api-list",
    "connection_requests": "connection-request-api-list",
    "audit_events": "audit-event-api-list",
}
# Stands for an org's identifier while a route is reversed once per list (identifiers are
# letters, digits and hyphens: nothing of them is quoted in a URL).
_IDENTIFIER_MARK = "ORG-MARK-0000"


def _link_parts() -> dict[str, tuple[str, str]]:
    """Each link's URL before and after the identifier: `reverse` once per list instead of four
    times per org (issue 13: a quarter of the org list's Python time)."""
    return {
        name: tuple(reverse(route, kwargs={"org": _IDENTIFIER_MARK}).rsplit(_IDENTIFIER_MARK, 1))
        for name, route in _LINK_ROUTES.items()
    }


def _links(organization: Organization, parts: dict[str, tuple[str, str]]) -> dict:
    org = organization.public_id
    links = {name: f"{head}{org}{tail}" for name, (head, tail) in parts.items()}
    if not organization.is_partner:
        links["customers"] = None
    return links


class OrganizationSerializer(ModelSerializer):
    """An org the caller may act in (ORG-1). Address and VAT ID are validated by the service."""

    country = CountryField(required=False, allow_blank=True)
    billing_country = CountryField(required=False, allow_blank=True)
    logo = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "public_id",
            "name",
            "kind",
            "status",
            *PROFILE_FIELDS[1:],  # after name, kind and status, as always
            "logo",
            *SUPPORT_CONTACT_FIELDS,
            "created_at",
            "links",
        ]
        read_only_fields = ["public_id", "kind", "status", "logo", "created_at", "links"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_logo(self, organization: Organization) -> str | None:
        return organization.logo.url if organization.logo else None

    @extend_schema_field(LinksSerializer)
    def get_links(self, organization: Organization) -> dict:
        parts = getattr(self, "_link_parts", None)  # one serializer serves every row of a list
        if parts is None:
            parts = self._link_parts = _link_parts()
        return _links(organization, parts)


class OrganizationDetailSerializer(OrganizationSerializer):
    """One org, with the caller's effective role there and its reseller (if any)."""

    role = serializers.SerializerMethodField()
    acting_as_partner = serializers.SerializerMethodField()
    reseller = serializers.SerializerMethodField()

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "role", "acting_as_partner", "reseller"]
        read_only_fields = [*OrganizationSerializer.Meta.read_only_fields, "role", "acting_as_partner", "reseller"]

    @extend_schema_field(serializers.ChoiceField(choices=OrgRole.choices))
    def get_role(self, organization) -> str:
        return self.context["org_context"].role

    def get_acting_as_partner(self, organization) -> bool:
        return self.context["org_context"].acting_as_partner

    @extend_schema_field(OrganizationSummarySerializer(allow_null=True))
    def get_reseller(self, organization) -> dict | None:
        reseller = self.context["org_context"].reseller
        return {"public_id": reseller.public_id, "name": reseller.name} if reseller else None


class CustomerSerializer(ModelSerializer):
    country = CountryField(read_only=True, allow_blank=True)

    class Meta:
        model = Organization
        fields = ["public_id", "name", "status", "street", "postcode", "city", "country", "vat_id", "created_at"]
        read_only_fields = fields


class ContactSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    initial_password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        style={"input_type": "password"},
        help_text=_("Optional: the contact logs in with it and must change it at first login (never emailed)."),
    )


class CustomerCreateSerializer(serializers.Serializer):
    """ORG-2: company details and the contact person (invited as Owner)."""

    name = serializers.CharField(max_length=200)
    street = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = CountryField(required=False, allow_blank=True)
    vat_id = serializers.CharField(max_length=20, required=False, allow_blank=True)
    contact = ContactSerializer()
    create_anyway = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Create even though a customer with the same name, VAT ID or contact email exists (the 409 `possible_duplicate` lists them)."
        ),
    )


class ConnectionRequestSerializer(ModelSerializer):
    partner = OrganizationSummarySerializer(read_only=True)
    customer = OrganizationSummarySerializer(read_only=True)
    direction = serializers.SerializerMethodField(
        help_text=_("incoming: this org is asked; outgoing: this partner asks.")
    )

    class Meta:
        model = CustomerRelation
        fields = [
            "id",
            "partner",
            "customer",
            "status",
            "direction",
            "message",
            "created_at",
            "activated_at",
            "ended_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=CONNECTION_DIRECTIONS))
    def get_direction(self, relation) -> str:
        context = self.context.get("org_context")
        return "outgoing" if context and relation.partner_id == context.organization.pk else "incoming"


class ConnectionRequestCreateSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=40, help_text=_("The organization's identifier (ORG-XXXX-XXXX)."))
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ArchiveSerializer(serializers.Serializer):
    confirm_name = serializers.CharField(max_length=200, help_text=_("The customer's name, exactly."))


class StaffSerializer(serializers.Serializer):
    user = serializers.EmailField(help_text=_("Email of a Member or Guest of the partner org."))


class StaffMemberSerializer(serializers.Serializer):
    email = serializers.EmailField(source="user.email")
    role = serializers.ChoiceField(choices=OrgRole.choices)
    assigned = serializers.BooleanField()


class LogoSerializer(serializers.Serializer):
    logo = serializers.FileField(help_text=_("PNG, JPEG or WebP, at least 150×150 px, at most 1 MB."))


class AuditDetailSerializer(serializers.Serializer):
    label = serializers.CharField(help_text=_("The field's name in the reader's language."))
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class AuditEventSerializer(ModelSerializer):
    """One event as the calling org may read it (ORG-10, ORG-6): a sentence in the caller's language
    and only the fields its audience may see – never the raw payload (support reads that in the admin)."""

    acting_organization = OrganizationSummarySerializer(read_only=True, allow_null=True)
    organization = OrganizationSummarySerializer(read_only=True, allow_null=True, help_text=_("Whose trail it is."))
    action_label = serializers.SerializerMethodField(help_text=_("The action in the reader's language."))
    summary = serializers.SerializerMethodField(help_text=_("What happened, as a sentence in the reader's language."))
    details = serializers.SerializerMethodField(
        help_text=_("The fields the calling organization may read, by field name: label, before, after.")
    )
    audience = serializers.SerializerMethodField(
        help_text=_("actor: the caller's org did it; other_party: another org or the system did.")
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "organization",
            "actor_email",
            "acting_organization",
            "action",
            "action_label",
            "summary",
            "details",
            "audience",
            "target_repr",
        ]
        read_only_fields = fields

    def _entry(self, event):
        from portal.audit import audit_entry, reader_organization

        cache = self.context.setdefault("_audit_entries", {})
        if event.pk not in cache:
            cache[event.pk] = audit_entry(event, reader=reader_organization(self.context["org_context"]))
        return cache[event.pk]

    def get_action_label(self, event) -> str:
        return self._entry(event).label

    def get_summary(self, event) -> str:
        return self._entry(event).summary

    @extend_schema_field(serializers.DictField(child=AuditDetailSerializer()))
    def get_details(self, event) -> dict:
        return {
            detail.key: {"label": detail.label, "before": detail.before, "after": detail.after}
            for detail in self._entry(event).details
        }

    @extend_schema_field(serializers.ChoiceField(choices=[("actor", "actor"), ("other_party", "other_party")]))
    def get_audience(self, event) -> str:
        return str(self._entry(event).audience)
