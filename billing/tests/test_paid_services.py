"""PRJ-5: paid services on a project need the project's order permission; BIL-4 decides who pays
(the reseller for a linked customer, the org itself otherwise, never a caretaker)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import services
from billing.models import Subscription
from offers.models import Product
from portal.errors import Conflict, InvalidInput, PermissionDenied
from projects.roles import ProjectRole
from projects.services import project_archive
from tests import factories

pytestmark = pytest.mark.django_db


def order(world, user, project=None, product=None, quantity=1, confirm=True):
    return services.service_order(
        project=project or world.direct_project,
        product=product or world.service,
        quantity=quantity,
        confirm_obligation_to_pay=confirm,
        actor=user,
    )


def test_a_direct_customer_orders_for_its_project_and_pays_list_price(world):
    subscription = order(world, world.direct_owner)
    assert (subscription.organization, subscription.payer, subscription.project) == (
        world.direct,
        world.direct,
        world.direct_project,
    )
    assert (subscription.source, subscription.unit_price) == ("service_order", Decimal("7.50"))


def test_a_linked_customer_orders_and_its_partner_pays_at_partner_conditions(world):
    subscription = order(world, world.customer_owner, project=world.customer_project)
    assert (subscription.organization, subscription.payer) == (world.customer, world.partner)
    assert subscription.unit_price == Decimal("6.00")  # 7.50 less 20 %


def test_partner_staff_order_for_a_customers_project(world):
    subscription = order(world, world.partner_admin, project=world.customer_project)
    assert subscription.payer == world.partner


def test_a_project_admin_without_org_role_may_order(world):
    user = factories.UserFactory()
    factories.grant(world.direct_project, user, ProjectRole.ADMIN)
    assert order(world, user).payer == world.direct


@pytest.mark.parametrize("role", [ProjectRole.DEVELOPER, ProjectRole.VIEWER, ProjectRole.EXTERNAL])
def test_other_project_roles_may_not_order(world, role):
    user = factories.UserFactory()
    factories.grant(world.direct_project, user, role)
    with pytest.raises(PermissionDenied):
        order(world, user)
    assert not Subscription.objects.filter(project=world.direct_project).exists()


@pytest.mark.parametrize("project_key", ["customer_project", "direct_project"])
def test_caretakers_never_order_and_never_pay(world, project_key):
    with pytest.raises(PermissionDenied):
        order(world, world.agency_owner, project=getattr(world, project_key))
    subscription = order(
        world,
        world.partner_owner if project_key == "customer_project" else world.direct_owner,
        project=getattr(world, project_key),
    )
    assert subscription.payer != world.agency
    assert not Subscription.objects.filter(payer=world.agency).exclude(organization=world.agency).exists()


def test_org_members_without_a_project_role_may_not_order(world):
    with pytest.raises(PermissionDenied):
        order(world, world.direct_member)


def test_only_services_can_be_ordered_for_a_project(world):
    with pytest.raises(InvalidInput) as error:
        order(world, world.direct_owner, product=world.module)
    assert error.value.field == "product"


def test_ordering_needs_the_confirmation(world):
    with pytest.raises(InvalidInput) as error:
        order(world, world.direct_owner, confirm=False)
    assert error.value.field == "confirm_obligation_to_pay"


def test_the_same_service_twice_is_a_conflict_another_service_is_fine(world):
    order(world, world.direct_owner)
    with pytest.raises(Conflict):
        order(world, world.direct_owner)
    other = Product.objects.create(
        sku="SRV-DOMAIN", kind="service", name_en="Domain", name_de="Domain", list_price="1.00"
    )
    order(world, world.direct_owner, product=other)
    assert Subscription.objects.filter(project=world.direct_project).count() == 2


def test_an_archived_project_orders_nothing(world):
    project_archive(project=world.direct_project, actor=world.direct_owner)
    world.direct_project.refresh_from_db()
    with pytest.raises(Conflict):
        order(world, world.direct_owner)


def test_a_project_with_services_cannot_be_deleted(world):
    from projects.services import project_delete

    order(world, world.direct_owner)
    with pytest.raises(Conflict):
        project_delete(project=world.direct_project, actor=world.direct_owner)
