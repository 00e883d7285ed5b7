"""URL-kwarg factories for the generic isolation tests (tests/test_isolation.py)."""

from organizations.roles import OrgRole
from tests import factories
from tests.isolation import object_factory

from . import factories as delegation_factories


@object_factory("delegation_id")
def delegation_in(organization, owner):
    """A pending request by an unrelated caretaker for a project of `organization`."""
    caretaker = factories.OrganizationFactory()
    factories.member(caretaker, OrgRole.OWNER)
    project = factories.project(organization, "Delegated project")
    return delegation_factories.request(project, caretaker).pk


@object_factory("block_id")
def requester_block_in(organization, owner):
    """`organization` blocked an unrelated requester org."""
    from ..models import DelegationRequesterBlock

    requester = factories.OrganizationFactory()
    return DelegationRequesterBlock.objects.create(organization=organization, blocked_organization=requester).pk
