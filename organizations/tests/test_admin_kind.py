"""Issue 11, item 5: support could turn a customer into a partner in the admin's change form (the
customer then read partner prices) and the audit snapshot did not show it. `kind` is read-only in
the form and changes only through `organization_change_kind` (admin action with confirmation),
which records it; every change in the form is recorded with all its changed fields."""

from __future__ import annotations

import pytest

from organizations.models import AuditEvent, Organization
from organizations.roles import OrgKind, OrgRole
from organizations.support import support_group_sync
from portal.errors import Conflict, PermissionDenied
from tests import factories

from ..services.profile import organization_change_kind

pytestmark = pytest.mark.django_db

CHANGE = "/admin/organizations/organization/{pk}/change/"


@pytest.fixture
def support(db):
    user = factories.UserFactory(is_staff=True)
    user.groups.add(support_group_sync())
    return user


def _form(organization, **changes) -> dict:
    data = {
        "name": organization.name,
        "street": organization.street,
        "postcode": organization.postcode,
        "city": organization.city,
        "country": organization.country or "",
        "vat_id": organization.vat_id,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_issue11_item5_kind_is_read_only_in_the_change_form(support, client):
    customer = factories.OrganizationFactory(name="Kunde AG", country="DE")
    client.force_login(support)
    page = client.get(CHANGE.format(pk=customer.pk)).content.decode()
    assert 'name="kind"' not in page
    response = client.post(CHANGE.format(pk=customer.pk), _form(customer, kind="partner", city="Ulm"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.kind == OrgKind.CUSTOMER and customer.city == "Ulm"


def test_issue11_item5_the_form_records_every_changed_field(support, client):
    organization = factories.OrganizationFactory(name="Firma GmbH", country="DE")
    client.force_login(support)
    client.post(
        CHANGE.format(pk=organization.pk),
        _form(
            organization,
            name="Firma Neu GmbH",
            city="Ulm",
            support_phone="+49 30 1234",
            support_hours="9–17",
        ),
    )
    event = AuditEvent.objects.get(action="organization.changed_by_support", organization=organization)
    assert set(event.after) == {"name", "city", "support_phone", "support_hours"}
    assert event.after["name"] == "Firma Neu GmbH" and event.before["name"] == "Firma GmbH"
    assert event.actor == support


def test_the_memberships_in_the_org_form_are_read_only(support, client):
    organization = factories.OrganizationFactory(country="DE")
    member = factories.member(organization, OrgRole.MEMBER)
    client.force_login(support)
    page = client.get(CHANGE.format(pk=organization.pk)).content.decode()
    assert str(member) in page and 'name="memberships-0-role"' not in page


def test_issue11_item5_support_changes_the_kind_through_the_admin_action_with_confirmation(support, client):
    organization = factories.OrganizationFactory(name="Bald Partner GmbH")
    client.force_login(support)
    confirm = client.post(
        "/admin/organizations/organization/", {"action": "change_kind", "_selected_action": [organization.pk]}
    )
    assert confirm.status_code == 200 and "Bald Partner GmbH" in confirm.content.decode()
    organization.refresh_from_db()
    assert organization.kind == OrgKind.CUSTOMER  # nothing happens before the confirmation
    client.post(
        "/admin/organizations/organization/",
        {
            "action": "change_kind",
            "_selected_action": [organization.pk],
            "kind": "partner",
            "confirm": "yes",
        },
    )
    organization.refresh_from_db()
    assert organization.kind == OrgKind.PARTNER
    event = AuditEvent.objects.get(action="organization.kind_changed", organization=organization)
    assert (event.before, event.after, event.actor) == ({"kind": "customer"}, {"kind": "partner"}, support)


def test_the_kind_change_is_refused_while_a_relation_depends_on_it(support):
    partner, customer = factories.PartnerFactory(), factories.OrganizationFactory()
    factories.link(partner, customer)
    with pytest.raises(Conflict):
        organization_change_kind(organization=customer, kind=OrgKind.PARTNER, actor=support)
    with pytest.raises(Conflict):
        organization_change_kind(organization=partner, kind=OrgKind.CUSTOMER, actor=support)
    assert Organization.objects.get(pk=customer.pk).kind == OrgKind.CUSTOMER
    assert not AuditEvent.objects.filter(action="organization.kind_changed").exists()


def test_only_support_changes_the_kind(db):
    organization = factories.OrganizationFactory()
    owner = factories.member(organization, OrgRole.OWNER)
    with pytest.raises(PermissionDenied):
        organization_change_kind(organization=organization, kind=OrgKind.PARTNER, actor=owner)
    assert Organization.objects.get(pk=organization.pk).kind == OrgKind.CUSTOMER
