"""`/api/v1/subscriptions/` and `/api/v1/organizations/{org}/subscriptions/`: list, booking with an
explicit `confirm_obligation_to_pay: true` (through the org URL only), quantity change,
cancellation; service orders at `/api/v1/projects/{number}/services/`."""

from __future__ import annotations

import pytest

from billing.models import Subscription

from .factories import book

pytestmark = pytest.mark.django_db

API = "/api/v1/subscriptions/"


def org_api(org, *parts):
    return f"/api/v1/organizations/{org.public_id}/subscriptions/" + "".join(f"{part}/" for part in parts)


def error_of(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    if code:
        assert error["code"] == code, error
    return error


def services_api(project):
    return f"/api/v1/projects/{project.number}/services/"


def booking(world, **extra):
    return {
        "product": "MOD-CRM",
        "quantity": 3,
        "confirm_obligation_to_pay": True,
        **extra,
    }


def test_partner_books_for_its_customer(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    response = api_client.post(org_api(world.customer), booking(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organization"] == {"public_id": world.customer.public_id, "name": "Kunde AG"}
    assert body["payer"] == {"public_id": world.partner.public_id, "name": "Partner GmbH"}
    assert (body["product"]["sku"], body["quantity"], body["unit_price"], body["monthly_amount"]) == (
        "MOD-CRM",
        3,
        "15.99",
        "47.97",
    )
    assert (body["status"], body["source"], body["in_force"], body["renews"]) == ("active", "partner_order", True, True)


@pytest.mark.parametrize("confirmation", [False, "true", "yes", 1, None])
def test_booking_needs_a_json_true(world, api_client, confirmation):
    api_client.force_authenticate(world.partner_owner)
    response = api_client.post(
        org_api(world.customer), booking(world, confirm_obligation_to_pay=confirmation), format="json"
    )
    error = error_of(response, 400)
    assert "confirm_obligation_to_pay" in (error["details"] or {})
    assert not Subscription.objects.exclude(source="trial").exists()


def test_booking_without_the_confirmation_field_is_refused(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    data = booking(world)
    del data["confirm_obligation_to_pay"]
    error_of(api_client.post(org_api(world.customer), data, format="json"), 400, "invalid")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"product": "NOPE"}, "product"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "x"}, "quantity"),
        ({"quantity": 10001}, "quantity"),
        ({"parent": 999999}, "parent"),
        ({"parent": "x"}, "parent"),
    ],
)
def test_bad_input_is_a_clear_400(world, api_client, change, field):
    api_client.force_authenticate(world.partner_owner)
    data = {key: value for key, value in {**booking(world), **change}.items() if value is not None}
    error = error_of(api_client.post(org_api(world.customer), data, format="json"), 400)
    assert field in (error["details"] or {}), error


def test_unknown_or_foreign_org_is_404(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    error_of(api_client.post("/api/v1/organizations/ORG-XXXX-XXXX/subscriptions/", booking(world), format="json"), 404)
    error_of(api_client.post(org_api(world.direct), booking(world), format="json"), 404)


def test_issue12_bookings_name_their_org_in_the_url_the_flat_post_is_405(world, api_client):
    """Issue 12: `POST /api/v1/subscriptions/` took the org from the body and resolved it by hand."""
    api_client.force_authenticate(world.partner_owner)
    flat = api_client.post(API, {**booking(world), "organization": world.customer.public_id}, format="json")
    error_of(flat, 405)
    assert not Subscription.objects.exclude(source="trial").exists()
    # A project in the body of a booking is refused, not booked for the org.
    data = booking(world, product="SRV-SSL", quantity=1, project=world.customer_project.number)
    error_of(api_client.post(org_api(world.customer), data, format="json"), 400)
    assert not Subscription.objects.exclude(source="trial").exists()


def test_the_customers_own_owner_cannot_book_or_see_anything(world, api_client):
    book(world)
    api_client.force_authenticate(world.customer_owner)
    error_of(api_client.post(org_api(world.customer), booking(world), format="json"), 404)
    assert api_client.get(API).json()["results"] == []
    error_of(api_client.get(org_api(world.customer)), 404)
    subscription = Subscription.objects.exclude(source="trial").get()
    error_of(api_client.get(f"{API}{subscription.pk}/"), 404)
    error_of(api_client.patch(f"{API}{subscription.pk}/", {"quantity": 9}, format="json"), 404)
    error_of(api_client.post(f"{API}{subscription.pk}/cancel/"), 404)


def test_list_across_orgs_shows_where_billing_may_be_seen(world, api_client):
    customer_booking = book(world)
    direct_booking = book(world, organization=world.direct, user=world.direct_owner)
    api_client.force_authenticate(world.partner_owner)
    ids = {row["id"] for row in api_client.get(API, {"page_size": 100}).json()["results"]}
    customer_trial = Subscription.objects.get(organization=world.customer, source="trial")
    assert ids == {customer_booking.pk, customer_trial.pk}
    filtered = api_client.get(API, {"organization": world.customer.public_id, "source": "partner_order"}).json()
    assert [row["id"] for row in filtered["results"]] == [customer_booking.pk]
    api_client.force_authenticate(world.direct_owner)
    ids = {row["id"] for row in api_client.get(API).json()["results"]}
    assert direct_booking.pk in ids and customer_booking.pk not in ids
    api_client.force_authenticate(world.direct_member)
    assert api_client.get(API).json()["results"] == []


def test_issue12_organization_filter_of_a_hidden_org_is_404(world, api_client):
    """Issue 12: `?organization=` of an org whose billing the caller may not see answered 200 []."""
    book(world)
    api_client.force_authenticate(world.customer_owner)  # ORG-6: a linked customer's billing is the partner's
    error_of(api_client.get(API, {"organization": world.customer.public_id}), 404)
    error_of(api_client.get(API, {"organization": world.direct.public_id}), 404)
    error_of(api_client.get(API, {"organization": "ORG-ZZZZ-ZZZZ"}), 404)
    api_client.force_authenticate(world.partner_owner)
    assert api_client.get(API, {"organization": world.customer.public_id.lower()}).status_code == 200


def test_quantity_change_and_cancel(world, api_client):
    subscription = book(world, quantity=3)
    api_client.force_authenticate(world.partner_admin)
    response = api_client.patch(f"{API}{subscription.pk}/", {"quantity": 5}, format="json")
    assert response.status_code == 200 and response.json()["quantity"] == 5
    error_of(api_client.patch(f"{API}{subscription.pk}/", {"quantity": 0}, format="json"), 400)
    error_of(api_client.patch(f"{API}{subscription.pk}/", {}, format="json"), 400)
    response = api_client.post(org_api(world.customer, subscription.pk, "cancel"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled" and body["ends_at"] is not None and body["in_force"] is True
    error_of(api_client.post(f"{API}{subscription.pk}/cancel/"), 409, "invalid_transition")
    error_of(api_client.patch(f"{API}{subscription.pk}/", {"quantity": 4}, format="json"), 409)
    assert api_client.put(f"{API}{subscription.pk}/", {"quantity": 4}, format="json").status_code == 405
    assert api_client.delete(f"{API}{subscription.pk}/").status_code == 405


def test_org_scoped_booking_and_add_on(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    data = booking(world)
    main = api_client.post(org_api(world.customer), data, format="json")
    assert main.status_code == 201, main.content
    add_on = api_client.post(
        org_api(world.customer),
        {**data, "product": "ADD-STORAGE", "quantity": 1, "parent": main.json()["id"]},
        format="json",
    )
    assert add_on.status_code == 201 and add_on.json()["parent"] == main.json()["id"]
    error_of(api_client.post(org_api(world.customer), data, format="json"), 409, "already_booked")


def test_service_order_through_the_api_hides_partner_conditions_from_the_customer(world, api_client):
    order = {"product": "SRV-SSL", "quantity": 1, "confirm_obligation_to_pay": True}
    api_client.force_authenticate(world.customer_owner)
    response = api_client.post(services_api(world.customer_project), order, format="json")
    assert response.status_code == 201, response.content
    assert "unit_price" not in response.json() and "payer" not in response.json()
    assert Subscription.objects.get(project=world.customer_project).payer == world.partner
    api_client.force_authenticate(world.agency_owner)  # a caretaker: sees the project, never orders
    error_of(api_client.post(services_api(world.direct_project), order, format="json"), 403)
    api_client.force_authenticate(world.direct_owner)
    error_of(api_client.post(services_api(world.customer_project), order, format="json"), 404)
    error_of(
        api_client.post(
            services_api(world.direct_project), {**order, "confirm_obligation_to_pay": "yes"}, format="json"
        ),
        400,
    )


def test_partner_staff_see_the_price_of_a_service_they_order(world, api_client):
    api_client.force_authenticate(world.partner_owner)
    order = {"product": "SRV-SSL", "quantity": 1, "confirm_obligation_to_pay": True}
    response = api_client.post(services_api(world.customer_project), order, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payer"]["public_id"] == world.partner.public_id and body["project"] == world.customer_project.number


def test_anonymous_gets_401(api_client):
    assert api_client.get(API).status_code == 401
    assert api_client.post("/api/v1/organizations/ORG-XXXX-XXXX/subscriptions/", {}, format="json").status_code == 401


def test_the_schema_describes_the_endpoints(api_client, world):
    api_client.force_authenticate(world.partner_owner)
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/subscriptions/" in schema["paths"]
    assert "/api/v1/subscriptions/{subscription_id}/cancel/" in schema["paths"]
    assert "post" not in schema["paths"]["/api/v1/subscriptions/"]
    assert "post" in schema["paths"]["/api/v1/organizations/{org}/subscriptions/"]
    assert "post" in schema["paths"]["/api/v1/projects/{project_number}/services/"]
    create = schema["components"]["schemas"]["SubscriptionCreateRequest"]
    assert "confirm_obligation_to_pay" in create["required"]


def test_the_status_filter_reads_the_status_as_of_now(world, api_client):
    from datetime import timedelta

    import time_machine

    trial = Subscription.objects.get(organization=world.customer, source="trial")
    api_client.force_authenticate(world.partner_owner)
    url = org_api(world.customer)
    assert [row["id"] for row in api_client.get(url, {"status": "trial"}).json()["results"]] == [trial.pk]
    with time_machine.travel(trial.ends_at + timedelta(seconds=1), tick=False):
        assert api_client.get(url, {"status": "trial"}).json()["results"] == []
        expired = api_client.get(url, {"status": "expired"}).json()["results"]
        assert [(row["id"], row["status"], row["in_force"]) for row in expired] == [(trial.pk, "expired", False)]
    error_of(api_client.get(url, {"status": "sideways"}), 400)
