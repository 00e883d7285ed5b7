"""Issue 12 ("One rule, one place"), the organizations theme: one audit recording API in
`portal.audit` (with a bulk API checked like the single one), one "acting organization" on the
resolved `OrgContext`, one action view (`portal.views.DomainErrorActionMixin`)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizations.models import AuditEvent, Membership
from organizations.roles import OrgRole
from portal.audit import AuditDeclarationError, audit_event_build, audit_record_many
from portal.tenancy import org_context_for_organization
from tests import factories

pytestmark = pytest.mark.django_db


def test_issue12_bulk_audit_checks_every_event_against_the_registry():
    organization = factories.OrganizationFactory()
    declared = audit_event_build(action="organization.changed", target=organization, after={"city": "Ulm"})
    built_by_hand = AuditEvent(
        action="organization.renamed_somehow",
        target_type="organizations.organization",
        target_id=str(organization.pk),
        organization=organization,
        after={"name": "x"},
    )
    with pytest.raises(AuditDeclarationError):
        audit_record_many([declared, built_by_hand])
    assert not AuditEvent.objects.filter(
        organization=organization, action__in=["organization.changed", "organization.renamed_somehow"]
    ).exists()


def test_issue12_bulk_audit_writes_a_batch_in_one_insert(django_assert_num_queries):
    organization = factories.OrganizationFactory()
    events = [
        audit_event_build(action="organization.changed", target=organization, after={"city": city})
        for city in ("Ulm", "Bonn", "Kiel")
    ]
    with django_assert_num_queries(1):
        audit_record_many(events)
    assert AuditEvent.objects.filter(organization=organization, action="organization.changed").count() == 3


def test_issue12_acting_organization_is_the_partner_for_partner_staff_else_the_org():
    partner = factories.PartnerFactory()
    customer = factories.OrganizationFactory()
    factories.link(partner, customer)
    staff = factories.member(partner, OrgRole.ADMIN)
    owner = factories.member(customer, OrgRole.OWNER)

    as_staff = org_context_for_organization(staff, customer)
    assert as_staff.acting_organization == partner
    assert as_staff.via_partner == partner
    as_owner = org_context_for_organization(owner, customer)
    assert as_owner.acting_organization == customer
    assert as_owner.via_partner is None


def test_issue12_an_action_view_answers_htmx_with_a_page_redirect(client):
    organization = factories.OrganizationFactory()
    owner = factories.member(organization, OrgRole.OWNER)
    other = factories.member(organization, OrgRole.MEMBER)
    membership = Membership.objects.get(user=other, organization=organization)
    url = reverse("member-role", kwargs={"org": organization.public_id, "member_id": membership.pk})
    members_url = reverse("member-list", kwargs={"org": organization.public_id})
    client.force_login(owner)

    plain = client.post(url, {"role": OrgRole.ADMIN})
    assert plain.status_code == 302 and plain["Location"] == members_url

    htmx = client.post(url, {"role": OrgRole.MEMBER}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == members_url
    membership.refresh_from_db()
    assert membership.role == OrgRole.MEMBER

    refused = client.post(url, {"role": "emperor"}, HTTP_HX_REQUEST="true")  # a domain error: same page, a message
    assert refused.status_code == 204 and refused["HX-Redirect"] == members_url
    membership.refresh_from_db()
    assert membership.role == OrgRole.MEMBER
