"""ORG-5: the members and invitations lists (pages and API) run the same number of queries with
10 and with 100 members/invitations (x10): no per-row queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from organizations.models import Invitation, Membership, User
from organizations.roles import OrgRole
from tests import factories

pytestmark = pytest.mark.django_db


def grow(organization, owner, count):
    """`count` more Guests and pending invitations, in bulk."""
    start = User.objects.count()
    users = User.objects.bulk_create(
        [
            User(email=f"bulk{start + i}@bulk.example", first_name="Bulk", last_name=f"{start + i:05d}")
            for i in range(count)
        ]
    )
    Membership.objects.bulk_create([Membership(user=u, organization=organization, role=OrgRole.GUEST) for u in users])
    now = timezone.now()
    Invitation.objects.bulk_create(
        [
            Invitation(
                organization=organization,
                email=f"inv{start + i}@bulk.example",
                role=OrgRole.GUEST,
                token_hash=f"{start + i:064d}",
                expires_at=now + timezone.timedelta(days=7),
                invited_by=owner,
                send_count=1,
                sent_at=now,
            )
            for i in range(count)
        ]
    )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("kind", ["page", "api"])
@pytest.mark.parametrize("what", ["members", "invitations"])
def test_list_queries_do_not_grow_with_the_number_of_rows(client, api_client, kind, what):
    partner = factories.PartnerFactory()
    organization = factories.OrganizationFactory()
    factories.link(partner, organization)
    owner = factories.member(organization, OrgRole.OWNER)
    org = organization.public_id
    if kind == "page":
        url = reverse("member-list" if what == "members" else "invitation-list", kwargs={"org": org})
        chosen = client
    else:
        url = f"/api/v1/organizations/{org}/{what}/"
        chosen = api_client
    chosen.force_login(owner)
    grow(organization, owner, 10)
    small = count_queries(chosen, url)
    grow(organization, owner, 90)  # x10
    large = count_queries(chosen, url)
    assert large == small, (small, large)
    assert large <= 14


def test_the_members_page_stays_within_budget_with_searching(client, django_assert_max_num_queries):
    organization = factories.OrganizationFactory()
    owner = factories.member(organization, OrgRole.OWNER)
    grow(organization, owner, 100)
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("member-list", kwargs={"org": organization.public_id}) + "?q=bulk&page=2")
    assert len(response.context["object_list"]) == 25
