"""Support staff work here (ORG-9)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin import ReadOnlyAdminMixin
from portal.audit import audit_record, snapshot
from portal.errors import DomainError
from portal.tenancy import active_reseller_relations

from .admin_overview import organization_overview
from .models import AuditEvent, CustomerRelation, Invitation, Membership, Organization, StaffAssignment, User
from .roles import OrgKind, OrgRole
from .services.archive import organization_restore
from .services.invitations import invitation_create, invitation_resend, invitation_revoke
from .services.profile import organization_change_kind, organization_create
from .services.relations import relation_connect, relation_end
from .validators import logo_process


def staff_groups():
    """Groups people assign by hand (e.g. "Support"); an org's members group is internal: the
    membership services keep it equal to the org's members (guardian permissions, DLG-4)."""
    return Group.objects.filter(organization__isnull=True)


class UserChangeForm(BaseUserChangeForm):
    """Offers only staff groups; the user's members groups stay as they are when saved."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "groups" in self.fields:
            self.fields["groups"].queryset = staff_groups()

    def clean_groups(self):
        chosen = self.cleaned_data["groups"]
        if self.instance.pk is None:
            return chosen
        kept = Group.objects.filter(organization__isnull=False, user=self.instance)
        return Group.objects.filter(Q(pk__in=chosen.values("pk")) | Q(pk__in=kept.values("pk")))


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "language", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name", "=memberships__organization__public_id"]
    list_filter = ["is_staff", "is_active", "language"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "must_change_password", "groups"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = ["groups"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Read-only (support): a plain list of the groups would name the internal members groups.
        return [
            (name, {**options, "fields": ["staff_groups" if f == "groups" else f for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "staff_groups"]

    @admin.display(description=_("groups"))
    def staff_groups(self, obj):
        return ", ".join(group.name for group in staff_groups().filter(user=obj)) or "-"


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    """Staff groups only: the org members groups are bookkeeping of the membership services."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(organization__isnull=True)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who is in which org with which role (read-only: roles change on the org's members pages,
    where the owner rules and the audit trail apply)."""

    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__email", "organization__name", "=organization__public_id"]
    fields = ["user", "organization", "role", "created_at"]
    readonly_fields = fields
    ordering = ["organization__name", "role", "user__email"]
    show_full_result_count = False


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Read-only: roles change on the org's members pages (support counts as Owner there), where
    the owner rules and the audit trail apply."""

    model = Membership
    extra = 0
    fields = readonly_fields = ["user", "role", "created_at"]


def _https_by_default(db_field, **kwargs):
    """Web addresses typed without a scheme are https (Django 6's default; no deprecation warning)."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class OrganizationAdminForm(forms.ModelForm):
    """The change form: the model's own checks (VAT ID per country, postcodes, billing address)
    run in `Organization.clean`; a logo goes through the same rules as in the portal (ORG-8)."""

    class Meta:
        model = Organization
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin's fieldsets decide what is shown
        formfield_callback = _https_by_default

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):  # a new upload, not the stored file
            return logo_process(logo)
        return logo


class OrganizationAddForm(OrganizationAdminForm):
    """ORG-9: support creates an org – for a partner (a linked customer with an invited Owner)."""

    partner = forms.ModelChoiceField(
        label=_("for partner"),
        required=False,
        queryset=Organization.objects.filter(kind=OrgKind.PARTNER, status="active"),
        help_text=_("Leave empty for a partner or a direct customer."),
    )
    contact_email = forms.EmailField(label=_("contact email"), required=False, help_text=_("Invited as Owner."))
    contact_first_name = forms.CharField(label=_("contact first name"), required=False)
    contact_last_name = forms.CharField(label=_("contact last name"), required=False)

    class Meta:
        model = Organization
        exclude = ["logo", "status", "archived_at"]  # noqa: DJ006 - every other field is asked on creation
        formfield_callback = _https_by_default

    def clean(self):
        data = super().clean()
        if data.get("partner") and data.get("kind") == OrgKind.PARTNER:
            self.add_error("partner", _("A partner organization cannot be the customer of a partner."))
        return data


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # as _https_by_default
    add_form = OrganizationAddForm
    list_display = ["name", "public_id", "kind", "status", "country", "vat_id", "created_at", "overview_link"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "=public_id", "vat_id", "memberships__user__email"]
    # The members group is internal bookkeeping (kept by the membership services): never shown.
    readonly_fields = ["public_id", "status", "archived_at", "created_at"]
    # Identity the role model depends on (ORG-6): `kind` changes only through the "change kind"
    # action (organizations.services.profile.organization_change_kind), status through archive/restore,
    # reseller relations in their own admin through the services.
    change_readonly_fields = ["kind"]
    inlines = [MembershipInline]
    show_full_result_count = False
    actions = ["restore", "change_kind"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj is None else [*self.change_readonly_fields, *fields]

    def get_search_results(self, request, queryset, search_term):
        # A VAT ID is found however it is typed ("de 136 695 976"): stored normalized, without spaces.
        found, duplicates = super().get_search_results(request, queryset, search_term)
        compact = "".join(search_term.split()).upper()
        if compact and compact != search_term.strip():
            found |= queryset.filter(vat_id=compact)
        return found, duplicates

    @admin.display(description=_("360° view"))
    def overview_link(self, obj):
        url = reverse("admin:organizations_organization_overview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("360° view"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/overview/",
                self.admin_site.admin_view(self.overview_view),
                name="organizations_organization_overview",
            ),
            *super().get_urls(),
        ]

    def overview_view(self, request, object_id):
        """The 360° page (issue 16): staff who may view organizations; 403 for other staff."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        organization = self.get_object(request, object_id)
        if organization is None:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            **organization_overview(organization, request.user),
            "opts": self.model._meta,
            "title": _("360° view of %(name)s") % {"name": organization.name},
            "subtitle": organization.public_id,
            "original": organization,
            "has_view_permission": True,
            "change_url": reverse("admin:organizations_organization_change", args=[organization.pk]),
        }
        return TemplateResponse(request, "admin/organizations/organization/overview.html", context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            form = self._get_form_for_get_fields(request, obj)
            return [
                (
                    None,
                    {
                        "fields": [
                            name for name in form.base_fields if not name.startswith("contact_") and name != "partner"
                        ]
                    },
                ),
                (
                    _("Customer of a partner (ORG-2)"),
                    {"fields": ["partner", "contact_email", "contact_first_name", "contact_last_name"]},
                ),
            ]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            # Every changed field of the form, whatever it is (not a fixed list that can miss one).
            concrete = {field.name for field in Organization._meta.concrete_fields}
            changed = [name for name in form.changed_data if name in concrete]
            before = snapshot(Organization.objects.get(pk=obj.pk), changed)
            super().save_model(request, obj, form, change)
            after = snapshot(obj, changed)
            changed = [name for name in changed if before.get(name) != after.get(name)]
            if changed:
                audit_record(
                    action="organization.changed_by_support",
                    target=obj,
                    actor=request.user,
                    before={name: before[name] for name in changed},
                    after={name: after[name] for name in changed},
                )
            return
        data = form.cleaned_data
        model_fields = {field.name for field in Organization._meta.fields} - {"id", "name", "kind", "members_group"}
        fields = {name: value for name, value in data.items() if name in model_fields}
        created = organization_create(name=data["name"], kind=data["kind"], actor=request.user, **fields)
        for field in Organization._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        if data.get("partner"):
            relation_connect(partner=data["partner"], customer=created, actor=request.user)
        if data.get("contact_email"):
            invitation_create(
                organization=created,
                email=data["contact_email"],
                role=OrgRole.OWNER,
                actor=request.user,
                first_name=data.get("contact_first_name", ""),
                last_name=data.get("contact_last_name", ""),
            )

    @admin.action(description=_("Restore the selected archived organizations"), permissions=["change"])
    def restore(self, request, queryset):
        restored = 0
        for organization in queryset.filter(status=Organization.Status.ARCHIVED):
            try:
                organization_restore(organization=organization, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{organization}: {error.message}", messages.ERROR)
            else:
                restored += 1
        self.message_user(request, _("%(count)d organizations restored.") % {"count": restored}, messages.SUCCESS)

    @admin.action(
        description=_("Change the kind (partner or customer) of the selected organizations"), permissions=["change"]
    )
    def change_kind(self, request, queryset):
        """Support only, after a confirmation page: through the service, which refuses what would
        break a customer relation and records the change in the audit trail."""
        kind = request.POST.get("kind", "")
        if request.POST.get("confirm") != "yes" or kind not in OrgKind.values:
            return TemplateResponse(
                request,
                "admin/organizations/organization/change_kind.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Change the kind of organizations"),
                    "organizations": queryset,
                    "kinds": OrgKind.choices,
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "media": self.media,
                },
            )
        changed = 0
        for organization in queryset:
            try:
                before = organization.kind
                organization_change_kind(organization=organization, kind=kind, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{organization}: {error.message}", messages.ERROR)
            else:
                changed += before != kind
        self.message_user(request, _("%(count)d organizations changed.") % {"count": changed}, messages.SUCCESS)
        return None


class CustomerRelationAddForm(forms.ModelForm):
    """ORG-3/ORG-9: support connects a partner and a customer directly."""

    class Meta:
        model = CustomerRelation
        fields = ["partner", "customer"]

    def clean(self):
        data = super().clean()
        partner, customer = data.get("partner"), data.get("customer")
        if partner and not partner.is_partner:
            self.add_error("partner", _("“%(name)s” is not a partner organization.") % {"name": partner.name})
        if customer and (customer.is_partner or customer == partner):
            self.add_error("customer", _("Partner organizations cannot become customers."))
        if customer and partner and active_reseller_relations(customer).exclude(partner=partner).exists():
            self.add_error(
                "customer",
                _(
                    "This organization already has a reseller. It can have only one; the current relation must end first."
                ),
            )
        return data

    def validate_constraints(self, exclude=None):
        pass  # the service decides (it may turn an open request into the active relation)


@admin.register(CustomerRelation)
class CustomerRelationAdmin(admin.ModelAdmin):
    list_display = ["partner", "customer", "status", "created_at", "activated_at", "ended_at"]
    list_filter = ["status"]
    search_fields = ["partner__name", "customer__name", "=customer__public_id", "=partner__public_id"]
    list_select_related = ["partner", "customer"]
    raw_id_fields = ["partner", "customer"]
    show_full_result_count = False
    actions = ["end_relations"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CustomerRelationAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [field.name for field in CustomerRelation._meta.fields]

    def get_fields(self, request, obj=None):
        return ["partner", "customer"] if obj is None else super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is edited by hand: state changes go through the services
        relation = relation_connect(partner=obj.partner, customer=obj.customer, actor=request.user)
        obj.pk = relation.pk
        obj.status = relation.status
        obj._state.adding = False

    @admin.action(
        description=_("End the selected relations (the partner's access ends at once)"), permissions=["change"]
    )
    def end_relations(self, request, queryset):
        ended = 0
        for relation in queryset.filter(status=CustomerRelation.Status.ACTIVE).select_related("partner", "customer"):
            try:
                relation_end(relation=relation, context=None, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{relation}: {error.message}", messages.ERROR)
            else:
                ended += 1
        self.message_user(request, _("%(count)d relations ended.") % {"count": ended}, messages.SUCCESS)


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: assignments change on the partner's pages (services, audit trail)."""

    list_display = ["membership", "customer", "created_at"]
    list_select_related = ["membership__user", "membership__organization", "customer"]
    search_fields = ["membership__user__email", "customer__name", "=customer__public_id"]
    fields = readonly_fields = ["membership", "customer", "created_at"]
    show_full_result_count = False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Support's view (read-only): the sentence and the raw payload, internal ids included – the
    only place the raw `before`/`after` is shown (the portal and the API filter per audience)."""

    list_display = ["created_at", "action", "summary", "actor_email", "organization", "acting_organization"]
    list_filter = ["action"]
    # An org's identifier finds its trail and what it did in others' (acting organization).
    search_fields = [
        "target_repr",
        "actor_email",
        "organization__name",
        "=organization__public_id",
        "=acting_organization__public_id",
    ]
    list_select_related = ["organization", "acting_organization", "actor"]
    readonly_fields = ["summary"]
    show_full_result_count = False

    @admin.display(description=_("summary"))
    def summary(self, obj):
        from portal.audit import Audience, audit_entry

        return audit_entry(obj, reader=None, audience=Audience.SUPPORT).summary

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- ORG-5: invitations (support resends or withdraws them) --------------------------------------


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only; the actions go through the services (state machine, audit trail, outbox email)."""

    list_display = ["email", "organization", "role", "status", "expires_at", "send_count", "emailed_at", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "organization__name", "organization__public_id"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization", "invited_by", "accepted_by", "revoked_by"]
    readonly_fields = [
        "organization",
        "email",
        "role",
        "first_name",
        "last_name",
        "language",
        "status",
        "expires_at",
        "with_initial_password",
        "send_count",
        "sent_at",
        "emailed_at",
        "invited_by",
        "accepted_by",
        "accepted_at",
        "revoked_by",
        "revoked_at",
        "expired_at",
        "created_at",
    ]
    exclude = ["token_hash", "prepared_user"]
    actions = ["resend", "revoke"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _run(self, request, queryset, service, done_message):
        done = 0
        for invitation in queryset.select_related("organization"):
            try:
                service(invitation=invitation, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{invitation.email}: {error.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Resend the selected invitations"), permissions=["change"])
    def resend(self, request, queryset):
        self._run(request, queryset, invitation_resend, _("%(count)d invitations sent again."))

    @admin.action(description=_("Withdraw the selected invitations"), permissions=["change"])
    def revoke(self, request, queryset):
        self._run(request, queryset, invitation_revoke, _("%(count)d invitations withdrawn."))
