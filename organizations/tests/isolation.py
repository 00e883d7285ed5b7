"""URL-kwarg factories for the generic isolation tests (tests/test_isolation.py).

Objects are Guests and Guest invitations, so every role that holds the route's capability may act
on them (nobody is refused for acting above their own rank).
"""
from organizations.models import Membership
from organizations.roles import OrgRole
from organizations.services import invitation_create
from tests import factories
from tests.isolation import object_factory


@object_factory("member_id")
def member_in(organization, owner):
    guest = factories.member(organization, OrgRole.GUEST)
    return Membership.objects.get(user=guest, organization=organization).pk


@object_factory("invitation_id")
def invitation_in(organization, owner):
    return invitation_create(
        organization=organization, email=f"invited-{organization.pk}-{Membership.objects.count()}@example.com",
        role=OrgRole.GUEST, actor=None,
    ).pk
