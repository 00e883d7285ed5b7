"""The tenancy choke point: where a request acts and with which role (ORG-4, ORG-6, ORG-11)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from organizations.models import CustomerRelation, Organization, StaffAssignment
from organizations.roles import OrgRole
from portal.errors import NotFound, PermissionDenied
from portal.tenancy import Scope, org_context_for, organizations_for_user, restrict
from tests import factories

pytestmark = pytest.mark.django_db


def test_direct_membership(partner_setup):
    context = org_context_for(partner_setup["customer_admin"], partner_setup["customer"].public_id)
    assert context.role == OrgRole.ADMIN
    assert not context.acting_as_partner
    assert context.reseller == partner_setup["partner"]


def test_public_id_lookup_is_case_insensitive(partner_setup):
    context = org_context_for(partner_setup["customer_owner"], partner_setup["customer"].public_id.lower())
    assert context.organization == partner_setup["customer"]


@pytest.mark.parametrize("role, effective", [("partner_owner", OrgRole.ADMIN), ("partner_admin", OrgRole.ADMIN)])
def test_partner_owners_and_admins_reach_every_linked_customer_as_admin(partner_setup, role, effective):
    context = org_context_for(partner_setup[role], partner_setup["customer"].public_id)
    assert context.role == effective
    assert context.via_partner == partner_setup["partner"]


def test_partner_members_need_an_assignment(partner_setup):
    member = partner_setup["partner_member"]
    with pytest.raises(NotFound):
        org_context_for(member, partner_setup["customer"].public_id)
    factories.assign(member, partner_setup["partner"], partner_setup["customer"])
    assert org_context_for(member, partner_setup["customer"].public_id).role == OrgRole.MEMBER


def test_foreign_unknown_and_archived_orgs_are_not_found(partner_setup):
    stranger = factories.member(factories.OrganizationFactory(), OrgRole.OWNER)
    for public_id in (partner_setup["customer"].public_id, "ORG-0000-0000", "nonsense"):
        with pytest.raises(NotFound):
            org_context_for(stranger, public_id)
    Organization.objects.filter(pk=partner_setup["customer"].pk).update(status="archived")
    with pytest.raises(NotFound):
        org_context_for(partner_setup["customer_owner"], partner_setup["customer"].public_id)


def test_ending_the_relation_removes_partner_access_at_once(partner_setup):
    CustomerRelation.objects.filter(customer=partner_setup["customer"]).update(status="ended")
    with pytest.raises(NotFound):
        org_context_for(partner_setup["partner_owner"], partner_setup["customer"].public_id)
    assert partner_setup["customer"] not in organizations_for_user(partner_setup["partner_owner"])


def test_partner_only_areas_are_hidden_from_customer_accounts_of_linked_orgs(partner_setup):
    """ORG-6: billing is 404 for the customer's Owner, but open to partner staff."""
    owner_context = org_context_for(partner_setup["customer_owner"], partner_setup["customer"].public_id)
    assert not owner_context.has("billing.view")
    with pytest.raises(NotFound):
        owner_context.require("billing.view")
    partner_context = org_context_for(partner_setup["partner_admin"], partner_setup["customer"].public_id)
    assert partner_context.has("billing.view")


def test_direct_customers_see_their_own_billing():
    direct = factories.OrganizationFactory()
    owner = factories.member(direct, OrgRole.OWNER)
    guest = factories.member(direct, OrgRole.GUEST)
    assert org_context_for(owner, direct.public_id).has("billing.view")
    with pytest.raises(PermissionDenied):
        org_context_for(guest, direct.public_id).require("billing.view")


def test_organizations_for_user_lists_own_and_reachable_orgs(partner_setup):
    other = factories.OrganizationFactory()
    factories.link(factories.PartnerFactory(), other)
    assert set(organizations_for_user(partner_setup["partner_owner"])) == {
        partner_setup["partner"],
        partner_setup["customer"],
    }
    assert set(organizations_for_user(partner_setup["customer_guest"])) == {partner_setup["customer"]}
    assert set(organizations_for_user(partner_setup["partner_member"])) == {partner_setup["partner"]}


def test_organizations_for_user_costs_one_query_however_many_customers(partner_setup, django_assert_num_queries):
    for _ in range(30):
        factories.link(partner_setup["partner"], factories.OrganizationFactory())
    with django_assert_num_queries(1):
        assert len(list(organizations_for_user(partner_setup["partner_owner"]))) == 32


def test_models_without_a_restriction_cannot_be_listed(partner_setup):
    with pytest.raises(ImproperlyConfigured):
        restrict(StaffAssignment.objects.all(), Scope(user=partner_setup["partner_owner"]))


@pytest.mark.parametrize("role", ["partner_owner", "partner_member"])
def test_issue12_one_reach_rule_archived_partner_reaches_no_customer(partner_setup, role):
    """Issue 12: the SQL reach (switcher, cross-org lists) and the resolved context agree; the
    assigned-staff branch lacked the partner-status check, so an assigned Member of an archived
    partner still listed the customer that `org_context_for` refuses."""
    user, customer = partner_setup[role], partner_setup["customer"]
    factories.assign(partner_setup["partner_member"], partner_setup["partner"], customer)
    Organization.objects.filter(pk=partner_setup["partner"].pk).update(status="archived")
    with pytest.raises(NotFound):
        org_context_for(user, customer.public_id)
    assert customer not in organizations_for_user(user)
    assert not restrict(Organization.objects.filter(pk=customer.pk), Scope(user=user)).exists()
