"""ORG-6 partner-only gate, ORG-7 archiving a linked customer, ORG-11 staff assignment."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.views import View

from organizations.gates import PartnerOnlyAreaMixin, partner_area_require, partner_area_visible
from organizations.models import AuditEvent, CustomerRelation, Organization, StaffAssignment
from organizations.roles import CAPABILITIES, OrgRole
from portal.errors import InvalidInput, NotFound, PermissionDenied
from portal.tenancy import org_context_for
from portal.views import OrgScopedMixin
from tests import factories

from ..services.archive import organization_archive, organization_restore
from ..services.staff import staff_assign, staff_unassign
from .conftest import ctx

pytestmark = pytest.mark.django_db

PARTNER_ONLY = sorted(name for name, spec in CAPABILITIES.items() if spec.partner_only)


# --- ORG-6 -----------------------------------------------------------------------------------------


def test_the_partner_only_capabilities_are_the_billing_areas():
    assert PARTNER_ONLY == [
        "billing.manage",
        "billing.view",
        "partner_area",
        "payment_methods.manage",
        "support_settings.manage",
    ]


@pytest.mark.parametrize("capability", PARTNER_ONLY)
@pytest.mark.parametrize("role", ["customer_owner", "customer_admin", "customer_member", "customer_guest"])
def test_customer_accounts_of_linked_orgs_never_reach_partner_only_areas(world, capability, role):
    context = ctx(getattr(world, role), world.customer)
    assert not context.has(capability)
    assert context.hides(capability)
    with pytest.raises(NotFound):  # 404, not 403: the area does not exist for them
        context.require(capability)


@pytest.mark.parametrize("capability", PARTNER_ONLY)
def test_partner_staff_in_the_customer_and_direct_customers_reach_them_by_role(world, capability):
    assert ctx(world.partner_admin, world.customer).has(capability)
    assert ctx(world.direct_owner, world.direct).has(capability)


def test_the_reusable_gate(world):
    assert not partner_area_visible(ctx(world.customer_owner, world.customer))
    assert partner_area_visible(ctx(world.partner_owner, world.customer))
    assert partner_area_visible(ctx(world.direct_owner, world.direct))
    assert partner_area_visible(ctx(world.partner_member, world.partner))
    with pytest.raises(NotFound):
        partner_area_require(ctx(world.customer_admin, world.customer))
    # a Guest of a direct customer sees the area exists (it is its role that does not allow it)
    guest = factories.member(world.direct, OrgRole.GUEST)
    assert ctx(guest, world.direct).has("partner_area")
    with pytest.raises(PermissionDenied):
        ctx(guest, world.direct).require("billing.view")


class _InvoicesLikeView(OrgScopedMixin, PartnerOnlyAreaMixin, View):
    capability = "organization.view"

    def get(self, request, *args, **kwargs):
        return HttpResponse("partner area")


def test_the_view_mixin_answers_404_to_customer_accounts(world):
    view = _InvoicesLikeView.as_view()
    request = RequestFactory().get("/x")
    request.user = world.customer_owner
    with pytest.raises(NotFound):  # the DomainErrorMiddleware renders it as the 404 page
        view(request, org=world.customer.public_id)
    request.user = world.partner_admin
    assert view(request, org=world.customer.public_id).content == b"partner area"


# --- ORG-7 -----------------------------------------------------------------------------------------


def _archive(world, actor=None, name="Kunde AG"):
    actor = actor or world.partner_owner
    return organization_archive(
        context=ctx(actor, world.partner), customer=world.customer, confirm_name=name, actor=actor
    )


def test_archive_ends_access_keeps_the_trail_and_runs_the_hook(world, monkeypatch):
    from portal import hooks

    archived = []
    monkeypatch.setitem(
        hooks._HOOKS, "organization.archived", [lambda organization, actor: archived.append(organization.pk)]
    )
    project = factories.project(world.customer, "Shop")
    customer = _archive(world)
    assert customer.status == "archived" and customer.archived_at
    assert archived == [world.customer.pk]
    for user in (world.customer_owner, world.partner_owner):
        with pytest.raises(NotFound):
            org_context_for(user, world.customer.public_id)
    # rows stay (retention): the org, its project, its trail
    assert Organization.objects.filter(pk=world.customer.pk).exists()
    assert project.__class__.objects.filter(pk=project.pk).exists()
    assert AuditEvent.objects.filter(organization=world.customer, action="organization.archived").exists()
    assert AuditEvent.objects.filter(organization=world.partner, action="organization.archived").exists()


@pytest.mark.parametrize("typed", ["Kunde", "kunde ag", "", "Kunde AG!"])
def test_archive_needs_the_exact_name(world, typed):
    with pytest.raises(InvalidInput) as error:
        _archive(world, name=typed)
    assert error.value.field == "confirm_name" and "Kunde AG" in error.value.message
    assert Organization.objects.get(pk=world.customer.pk).status == "active"


@pytest.mark.parametrize("role", ["partner_member", "partner_guest"])
def test_only_partner_owners_and_admins_archive(world, role):
    factories.assign(getattr(world, role), world.partner, world.customer)
    with pytest.raises(PermissionDenied):
        _archive(world, actor=getattr(world, role))


def test_not_linked_orgs_cannot_be_archived_by_a_partner(world):
    with pytest.raises(NotFound):
        organization_archive(
            context=ctx(world.partner_owner, world.partner),
            customer=world.direct,
            confirm_name="Direkt GmbH",
            actor=world.partner_owner,
        )


def test_archive_page_and_api(world, client, api_client):
    client.force_login(world.partner_admin)
    url = reverse("customer-archive", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id})
    assert client.get(url).status_code == 200
    response = client.post(url, {"confirm_name": "Kunde"})
    assert response.status_code == 400 and "Type the organization&#x27;s name exactly" in response.content.decode()
    api_client.force_login(world.partner_admin)
    api = reverse("customer-api-archive", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id})
    assert api_client.post(api, {"confirm_name": "nope"}, format="json").status_code == 400
    assert api_client.post(api, {"confirm_name": "Kunde AG"}, format="json").json()["status"] == "archived"
    assert api_client.post(api, {"confirm_name": "Kunde AG"}, format="json").status_code == 409


def test_support_restores_an_archived_org(world):
    _archive(world)
    support = factories.UserFactory(is_staff=True)
    organization_restore(organization=Organization.objects.get(pk=world.customer.pk), actor=support)
    assert org_context_for(world.customer_owner, world.customer.public_id).reseller == world.partner


# --- ORG-11 ----------------------------------------------------------------------------------------


def test_members_reach_only_assigned_customers(world):
    with pytest.raises(NotFound):
        org_context_for(world.partner_member, world.customer.public_id)
    staff_assign(
        context=ctx(world.partner_admin, world.partner),
        customer=world.customer,
        user_id=world.partner_member.pk,
        actor=world.partner_admin,
    )
    context = org_context_for(world.partner_member, world.customer.public_id)
    assert context.role == OrgRole.MEMBER and context.acting_as_partner
    assert AuditEvent.objects.filter(action="staff.assigned", organization=world.customer).exists()
    staff_unassign(
        context=ctx(world.partner_admin, world.partner),
        customer=world.customer,
        user_id=world.partner_member.pk,
        actor=world.partner_admin,
    )
    with pytest.raises(NotFound):
        org_context_for(world.partner_member, world.customer.public_id)


def test_assigning_is_for_owners_and_admins_and_only_of_members_and_guests(world):
    with pytest.raises(PermissionDenied):
        staff_assign(
            context=ctx(world.partner_member, world.partner),
            customer=world.customer,
            user_id=world.partner_guest.pk,
            actor=world.partner_member,
        )
    with pytest.raises(InvalidInput, match="Owners and Admins reach every customer"):
        staff_assign(
            context=ctx(world.partner_owner, world.partner),
            customer=world.customer,
            user_id=world.partner_admin.pk,
            actor=world.partner_owner,
        )
    with pytest.raises(InvalidInput, match="Choose a member of your organization"):
        staff_assign(
            context=ctx(world.partner_owner, world.partner),
            customer=world.customer,
            user_id=world.customer_member.pk,
            actor=world.partner_owner,
        )
    with pytest.raises(NotFound):  # not a customer of this partner
        staff_assign(
            context=ctx(world.partner_owner, world.partner),
            customer=world.direct,
            user_id=world.partner_member.pk,
            actor=world.partner_owner,
        )


def test_staff_page_and_api(world, client, api_client):
    client.force_login(world.partner_owner)
    detail = reverse("customer-detail", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id})
    assert world.partner_member.email in client.get(detail).content.decode()
    client.post(
        reverse("customer-staff", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id}),
        {"user": world.partner_member.pk},
    )
    assert StaffAssignment.objects.filter(customer=world.customer, membership__user=world.partner_member).exists()
    api_client.force_login(world.partner_admin)
    kwargs = {"org": world.partner.public_id, "customer": world.customer.public_id}
    response = api_client.post(
        reverse("customer-api-unassign-staff", kwargs=kwargs), {"user": world.partner_member.email}, format="json"
    )
    assert response.status_code == 200
    assert world.partner_member.email not in [row["email"] for row in response.json()]
    response = api_client.post(
        reverse("customer-api-assign-staff", kwargs=kwargs), {"user": "nobody@example.com"}, format="json"
    )
    assert response.status_code == 400
    assert CustomerRelation.objects.filter(customer=world.customer, status="active").exists()
