"""ORG-6 explicitly, over every billing page and endpoint the URL walker finds: in a
partner-linked customer org, the customer's own accounts (Owner included), a guest and a caretaker
get 404 – the area does not exist for them – while the partner's Owners/Admins get in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizations.roles import OrgRole
from tests import factories
from tests.isolation import OBJECT_FACTORIES, org_routes

from .factories import book

BILLING_ROUTES = [route for route in org_routes() if route.capability and route.capability.startswith("billing.")]
ROUTE_PARAMS = [pytest.param(route, id=route.id) for route in BILLING_ROUTES]
OUTSIDERS = [
    "customer_owner",
    "customer_admin",
    "customer_member",
    "customer_guest",
    "caretaker",
    "partner_member_unassigned",
]


def test_the_walker_finds_every_billing_page_and_endpoint():
    names = {route.name for route in BILLING_ROUTES}
    assert {
        "subscription-list",
        "subscription-book",
        "subscription-detail",
        "subscription-quantity",
        "subscription-cancel",
        "organization-subscription-api-list",
        "organization-subscription-api-detail",
        "organization-subscription-api-cancel",
    } <= names


def _person(world, who):
    if who == "customer_guest":
        return factories.member(world.customer, OrgRole.GUEST)
    if who == "customer_member":
        return factories.member(world.customer, OrgRole.MEMBER)
    if who == "caretaker":
        return world.agency_owner  # External on the customer's project (a caretaker delegation)
    if who == "partner_member_unassigned":
        return world.partner_member
    return getattr(world, who)


def _request(client, api_client, route, user, url):
    chosen = api_client if route.kind == "api" else client
    chosen.force_login(user)
    method = getattr(chosen, route.method.lower())
    if route.kind == "api" and route.method not in ("GET", "DELETE"):
        return method(url, {"quantity": 1}, format="json")
    return method(url)


def _url(route, world):
    kwargs = {"org": world.customer.public_id}
    for kwarg in route.kwargs:
        if kwarg != "org":
            kwargs[kwarg] = OBJECT_FACTORIES[kwarg](world.customer, world.customer_owner)
    return reverse(route.name, kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTE_PARAMS)
@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_of_the_partner_only_area_get_404(route, who, world, client, api_client):
    response = _request(client, api_client, route, _person(world, who), _url(route, world))
    assert response.status_code == 404, (who, response.status_code, response.content[:200])


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_the_partners_owner_gets_in(route, world, client, api_client):
    response = _request(client, api_client, route, world.partner_owner, _url(route, world))
    assert response.status_code not in (401, 403, 404, 405) and response.status_code < 500, response.content[:300]


@pytest.mark.django_db
@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_get_nothing_across_orgs(who, world, api_client):
    subscription = book(world)
    user = _person(world, who)
    api_client.force_login(user)
    listed = api_client.get("/api/v1/subscriptions/", {"page_size": 100}).json()["results"]
    assert all(row["organization"]["public_id"] != world.customer.public_id for row in listed)
    assert api_client.get(f"/api/v1/subscriptions/{subscription.pk}/").status_code == 404
    assert (
        api_client.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"quantity": 9}, format="json").status_code == 404
    )
    assert api_client.post(f"/api/v1/subscriptions/{subscription.pk}/cancel/").status_code == 404
    response = api_client.post(
        "/api/v1/subscriptions/",
        {
            "organization": world.customer.public_id,
            "product": "MOD-CRM",
            "quantity": 1,
            "confirm_obligation_to_pay": True,
        },
        format="json",
    )
    # The flat list books nothing: bookings go through /api/v1/organizations/<org>/subscriptions/.
    assert response.status_code == 405
    subscription.refresh_from_db()
    assert (subscription.quantity, subscription.status) == (3, "active")


@pytest.mark.django_db
def test_an_ended_relation_ends_the_partners_access_to_billing(world, client):
    from organizations.models import CustomerRelation

    CustomerRelation.objects.filter(customer=world.customer).update(status="ended")
    client.force_login(world.partner_owner)
    assert client.get(reverse("subscription-list", kwargs={"org": world.customer.public_id})).status_code == 404
    # … and the customer, now direct, sees its own billing
    client.force_login(world.customer_owner)
    assert client.get(reverse("subscription-list", kwargs={"org": world.customer.public_id})).status_code == 200
