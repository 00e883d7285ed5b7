"""The generic isolation tests (tests/test_isolation.py) walk every organization page and endpoint
of this app: anonymous, other tenant, each role in a partner, a linked customer and via partner."""

from tests.isolation import OBJECT_FACTORIES, org_routes

ORGANIZATION_ROUTES = {
    "organization-dashboard",
    "organization-profile",
    "organization-logo",
    "organization-logo-remove",
    "organization-support-contact",
    "organization-reseller-end",
    "customer-list",
    "customer-create",
    "customer-connect",
    "customer-detail",
    "customer-staff",
    "customer-relation-end",
    "customer-archive",
    "open-requests",
    "connection-accept",
    "connection-decline",
    "connection-cancel",
    "audit-trail",
    "organization-api-detail",
    "organization-api-logo",
    "organization-api-support-contact",
    "organization-api-end-reseller-relation",
    "customer-api-list",
    "customer-api-detail",
    "customer-api-archive",
    "customer-api-end-relation",
    "customer-api-staff",
    "customer-api-assign-staff",
    "customer-api-unassign-staff",
    "connection-request-api-list",
    "connection-request-api-detail",
    "connection-request-api-accept",
    "connection-request-api-decline",
    "connection-request-api-cancel",
    "audit-event-api-list",
}


def test_every_organization_route_is_walked_with_its_capability():
    routes = {route.name: route for route in org_routes()}
    assert ORGANIZATION_ROUTES <= set(routes)
    assert {"customer", "relation_id"} <= set(OBJECT_FACTORIES)
    # writes are walked with the capability the role table decides on
    assert routes["customer-archive"].capability == "customers.manage"
    assert routes["connection-accept"].capability == "requests.decide"
    assert routes["audit-event-api-list"].capability == "audit.view"
