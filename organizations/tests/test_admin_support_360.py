"""Issue 16, the support admin: the 360° page of an org, the searches support needs (orgs by name,
identifier, VAT ID and member email; invoices by recipient or customer; audit by org identifier)
and the internal fields the admin never shows."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from billing.models import Subscription
from delegations.models import Delegation
from invoices.tests.factories import issue, line
from offers.models import Offer
from organizations.models import AuditEvent, CustomerRelation, Organization
from organizations.roles import OrgRole
from organizations.support import support_group_sync
from portal.management.commands.seed_demo import seed_all
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(db):
    user = factories.UserFactory(is_staff=True)
    user.groups.add(support_group_sync())
    return user


@pytest.fixture
def demo(db):
    return seed_all()


def _overview(pk) -> str:
    return f"/admin/organizations/organization/{pk}/overview/"


def test_issue16_360_page_shows_reseller_members_subscriptions_invoices_delegations_offers_audit(demo, client):
    client.force_login(demo["users"]["support"])
    customer = demo["orgs"]["customer"]
    response = client.get(_overview(customer.pk))
    assert response.status_code == 200
    page = response.content.decode()
    sections = response.context["sections"]
    assert set(sections) == {"relations", "members", "subscriptions", "invoices", "delegations", "offers", "audit"}
    # the reseller, linked to its own 360° page
    assert response.context["reseller"].partner == demo["orgs"]["partner"]
    assert _overview(demo["orgs"]["partner"].pk) in page
    # members with roles
    assert "customer@demo.example" in page and "guest@demo.example" in page and "Owner" in page
    # the reseller's invoice that bills this customer, with its status and gross total
    [partner_invoice] = [i for i in sections["invoices"].rows if i.recipient == demo["orgs"]["partner"]]
    assert partner_invoice.number in page and "Open" in page
    assert sections["subscriptions"].total == Subscription.objects.filter(organization=customer).count() > 0
    assert sections["delegations"].total == Delegation.objects.filter(organization=customer).count()
    assert sections["audit"].rows and len(sections["audit"].rows) <= 20
    # every section links to its admin list, filtered by the org's identifier
    for section in sections.values():
        assert section.list_url.endswith(f"q={customer.public_id}") or f"q={customer.public_id}&" in section.list_url
        assert section.list_url.replace("&", "&amp;") in page
        assert client.get(section.list_url).status_code == 200


def test_issue16_360_page_is_linked_from_the_change_page_and_the_list(support, client):
    organization = factories.OrganizationFactory(name="Verlinkt GmbH")
    client.force_login(support)
    change = client.get(f"/admin/organizations/organization/{organization.pk}/change/").content.decode()
    assert _overview(organization.pk) in change
    listing = client.get("/admin/organizations/organization/", {"q": "Verlinkt"}).content.decode()
    assert _overview(organization.pk) in listing


def test_issue16_360_page_only_for_support_staff(support, client):
    organization = factories.OrganizationFactory()
    owner = factories.member(organization, OrgRole.OWNER)
    url = _overview(organization.pk)
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(owner)  # a member of the org, not staff
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(factories.UserFactory(is_staff=True))  # staff without the permission
    assert client.get(url).status_code == 403
    client.force_login(support)
    assert client.get(url).status_code == 200
    assert client.get(_overview(999999)).status_code == 404


def test_issue16_360_page_shows_only_sections_the_user_may_view(client):
    staff = factories.UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_organization"))
    organization = factories.OrganizationFactory()
    client.force_login(staff)
    response = client.get(_overview(organization.pk))
    assert response.status_code == 200
    assert response.context["sections"] == {}
    assert response.context["reseller"] is None


def _grow(demo, rows=12):
    """More rows in every section of the demo customer's 360° page."""
    customer, partner = demo["orgs"]["customer"], demo["orgs"]["partner"]
    for n in range(rows):
        factories.member(customer, OrgRole.MEMBER, email=f"grow{n}@example.com")
        CustomerRelation.objects.create(partner=factories.PartnerFactory(), customer=customer, status="ended")
        issue(line(partner, customer), period=(date(2024, n + 1, 1), date(2024, n + 1, 28)))
    for model, changes in (
        (Subscription, {"source": "partner_order", "status": "cancelled", "offer_item_id": None, "offer_id": None}),
        (Offer, {"status": Offer.Status.WAITING, "bulk_send": None}),
        (Delegation, {"status": Delegation.Status.REVOKED}),
    ):
        field = "organization" if model is not Offer else "customer"
        template = model.objects.filter(**{field: customer}).first()
        assert template is not None, f"the demo has no {model.__name__} for the customer"
        for _n in range(rows):
            template.pk = template.id = None
            for name, value in changes.items():
                setattr(template, name, value)
            template._state.adding = True
            template.save()
    AuditEvent.objects.bulk_create(
        AuditEvent(organization=customer, action="organization.changed", target_repr=customer.name, target_id="1")
        for _n in range(30)
    )


def test_issue16_360_page_queries_do_not_grow_with_the_data(demo, client):
    client.force_login(demo["users"]["support"])
    url = _overview(demo["orgs"]["customer"].pk)
    client.get(url)  # warm the caches (content types, permissions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(demo)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert all(len(section.rows) >= 10 for section in response.context["sections"].values())
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
    assert len(large) <= 30  # the budget: two queries per section plus the session, user and permissions


# --- searches -----------------------------------------------------------------------------------


def test_issue16_org_search_by_vat_id_typed_with_spaces_and_by_member_email_without_duplicates(support, client):
    organization = factories.OrganizationFactory(name="Leerzeichen GmbH", vat_id="DE136695976")
    for n in range(3):
        factories.member(organization, OrgRole.MEMBER, email=f"person{n}@leerzeichen.example")
    client.force_login(support)
    page = client.get("/admin/organizations/organization/", {"q": "de 136 695 976"}).content.decode()
    assert "Leerzeichen GmbH" in page
    response = client.get("/admin/organizations/organization/", {"q": "@leerzeichen.example"})
    assert list(response.context["cl"].result_list) == [organization]  # one row, not one per member


def test_issue16_invoice_search_finds_a_partner_invoice_by_its_customers_name(support, client):
    partner = factories.PartnerFactory(name="Großhändler GmbH")
    customer = factories.OrganizationFactory(name="Bäckerei Sonnenschein")
    other = factories.OrganizationFactory(name="Metzgerei Mond")
    factories.link(partner, customer)
    [partner_invoice] = issue(line(partner, customer), line(partner, customer, unit_price="5.00"))
    [other_invoice] = issue(line(other))
    client.force_login(support)
    for term in ("Sonnenschein", customer.public_id):
        response = client.get("/admin/invoices/invoice/", {"q": term})
        assert list(response.context["cl"].result_list) == [partner_invoice]  # once, though it has two lines
    # the recipient still finds its own invoice
    response = client.get("/admin/invoices/invoice/", {"q": "Metzgerei"})
    assert list(response.context["cl"].result_list) == [other_invoice]
    # and a list filter still applies to the customer matches
    response = client.get("/admin/invoices/invoice/", {"q": "Sonnenschein", "kind": "credit_note"})
    assert list(response.context["cl"].result_list) == []


def test_issue16_audit_search_by_org_identifier(support, client):
    organization = factories.OrganizationFactory(name="Protokoll GmbH")
    other = factories.OrganizationFactory(name="Fremd AG")
    acted = AuditEvent.objects.create(
        organization=other,
        acting_organization=organization,
        action="organization.changed",
        target_repr="done by Protokoll",
        target_id="1",
    )
    client.force_login(support)
    response = client.get("/admin/organizations/auditevent/", {"q": organization.public_id})
    found = set(response.context["cl"].result_list)
    assert acted in found and AuditEvent.objects.filter(organization=organization).first() in found
    assert not any(event.organization == other and event != acted for event in found)


def test_issue16_members_list_by_org_identifier(support, client):
    organization = factories.OrganizationFactory()
    member = factories.member(organization, OrgRole.ADMIN, email="admin@members.example")
    factories.member(factories.OrganizationFactory(), OrgRole.OWNER, email="other@members.example")
    client.force_login(support)
    response = client.get("/admin/organizations/membership/", {"q": organization.public_id})
    assert [m.user for m in response.context["cl"].result_list] == [member]


# --- internal fields ---------------------------------------------------------------------------------


def test_issue16_the_members_group_is_never_shown(support, client):
    organization = factories.OrganizationFactory()
    user = factories.member(organization, OrgRole.OWNER)
    group_name = organization.members_group.name
    client.force_login(support)
    page = client.get(f"/admin/organizations/organization/{organization.pk}/change/").content.decode()
    assert "members group" not in page.lower() and group_name not in page
    page = client.get(f"/admin/organizations/user/{user.pk}/change/").content.decode()
    assert group_name not in page


def test_issue16_superusers_see_staff_groups_only_and_keep_members_groups_on_save(client):
    organization = factories.OrganizationFactory()
    user = factories.member(organization, OrgRole.OWNER)
    support_group = support_group_sync()
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    groups = client.get("/admin/auth/group/").content.decode()
    assert "Support" in groups and organization.members_group.name not in groups
    form = client.get(f"/admin/organizations/user/{user.pk}/change/").context["adminform"].form
    assert list(form.fields["groups"].queryset) == [support_group]
    response = client.post(
        f"/admin/organizations/user/{user.pk}/change/",
        {
            "email": user.email,
            "first_name": "Neu",
            "last_name": user.last_name,
            "language": user.language,
            "is_active": "on",
            "groups": [support_group.pk],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(Group.objects.filter(user=user)) == {support_group, organization.members_group}


def test_issue16_api_tokens_are_never_shown_in_the_admin(client):
    holder = factories.UserFactory()
    token = Token.objects.create(user=holder)
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/authtoken/tokenproxy/")
    assert listing.status_code == 200 and holder.email in listing.content.decode()
    assert token.key not in listing.content.decode()
    assert client.get(f"/admin/authtoken/tokenproxy/{holder.pk}/change/").status_code == 404
    assert client.get(f"/admin/authtoken/tokenproxy/{holder.pk}/delete/").status_code == 404
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 403
    response = client.post("/admin/authtoken/tokenproxy/", {"action": "revoke", "_selected_action": [holder.pk]})
    assert response.status_code == 302 and not Token.objects.filter(user=holder).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/organizations/staffassignment/add/",
        "/admin/organizations/membership/add/",
    ],
)
def test_issue16_bookkeeping_rows_are_not_added_by_hand(url, client):
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    assert client.get(url).status_code == 403


def test_issue16_org_status_is_read_only_in_the_change_form(support, client):
    organization = factories.OrganizationFactory()
    client.force_login(support)
    form = client.get(f"/admin/organizations/organization/{organization.pk}/change/").context["adminform"].form
    assert "status" not in form.fields and "kind" not in form.fields and "members_group" not in form.fields
    assert Organization.objects.get(pk=organization.pk).status == "active"
