"""DLG-4: the caretaker org's members hold the External role on the delegated project – technical
administration only – and reach nothing else of the project's org (members, orders, deletion, billing)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delegations import services
from delegations.tests import factories as df
from organizations.roles import OrgRole
from portal.errors import NotFound
from portal.tenancy import org_context_for
from projects.models import Project, ProjectRoleGrant
from projects.roles import ProjectAction
from projects.selectors import (
    allowed_actions_of,
    project_annotate_for_user,
    project_list_for_user,
    project_user_may,
)
from tests import factories
from tests.isolation import OBJECT_FACTORIES, org_routes

pytestmark = pytest.mark.django_db


def project_allowed_actions(*, user, project) -> set[str]:
    """Every action `user` may perform on `project` (what the pages and the API annotate)."""
    annotated = project_annotate_for_user(Project.objects.filter(pk=project.pk), user=user, actions=True).get()
    return set(allowed_actions_of(annotated))


@pytest.mark.parametrize("who", ["agency_owner", "agency_admin", "agency_member"])
def test_every_caretaker_member_holds_exactly_the_external_rights(world, who):
    df.active(world.project, world.agency)
    user = getattr(world, who)
    assert project_allowed_actions(user=user, project=world.project) == {ProjectAction.VIEW, ProjectAction.CHANGE}
    for action in (ProjectAction.ORDER_SERVICES, ProjectAction.MANAGE_MEMBERS, ProjectAction.DELETE):
        assert not project_user_may(user=user, project=world.project, action=action)


def test_the_grant_is_the_external_role_held_by_the_org_from_the_delegation(world):
    df.active(world.project, world.agency)
    grant = ProjectRoleGrant.objects.get(project=world.project, organization=world.agency)
    assert (grant.role, grant.source, grant.user) == ("external", "delegation", None)
    # through the org's members group: somebody joining the agency later holds it too
    newcomer = factories.member(world.agency, OrgRole.GUEST)
    assert project_allowed_actions(user=newcomer, project=world.project) == {ProjectAction.VIEW, ProjectAction.CHANGE}


def test_the_delegated_project_is_among_the_caretakers_projects_and_nothing_else(world):
    other = factories.project(world.customer, "Not delegated")
    df.active(world.project, world.agency)
    projects = list(project_list_for_user(user=world.agency_member))
    assert projects == [world.project]
    assert other not in projects
    # and it is not moved: contract and bills stay with the customer
    assert Project.objects.get(pk=world.project.pk).organization == world.customer


def test_the_customer_keeps_full_rights(world):
    df.active(world.project, world.agency)
    assert project_allowed_actions(user=world.customer_owner, project=world.project) == set(ProjectAction.values)


def test_caretakers_reach_no_page_nor_endpoint_of_the_customer_org(world, client, api_client):
    """Billing, members, orders … are org-scoped: without a membership everything there is a 404."""
    df.active(world.project, world.agency)
    with pytest.raises(NotFound):
        org_context_for(world.agency_owner, world.customer.public_id)
    client.force_login(world.agency_owner)
    api_client.force_authenticate(world.agency_owner)
    checked = 0
    for route in org_routes():
        kwargs = {"org": world.customer.public_id}
        for kwarg in route.kwargs:
            if kwarg != "org":
                kwargs[kwarg] = OBJECT_FACTORIES[kwarg](world.customer, world.customer_owner)
        url = reverse(route.name, kwargs=kwargs)
        chosen = api_client if route.kind == "api" else client
        response = getattr(chosen, route.method.lower())(url)
        assert response.status_code == 404, (route.id, response.status_code)
        checked += 1
    assert checked > 10


def test_revocation_removes_access_at_once(world):
    delegation = df.active(world.project, world.agency)
    services.delegation_revoke(
        delegation=delegation, context=df.context(world.customer_owner, world.customer), actor=world.customer_owner
    )
    assert not project_user_may(user=world.agency_member, project=world.project, action=ProjectAction.VIEW)
    assert list(project_list_for_user(user=world.agency_member)) == []


def test_an_archived_caretaker_org_loses_access(world):
    df.active(world.project, world.agency)
    world.agency.status = "archived"
    world.agency.save()
    assert not project_user_may(user=world.agency_member, project=world.project, action=ProjectAction.VIEW)
