"""The browser pages: subscriptions of an org, the two-step booking, quantity, cancellation,
and paid services on a project page (PRJ-5)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing.models import Subscription
from projects.roles import ProjectRole
from tests import factories

from .factories import book

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org": org.public_id, **kwargs})


def paid(queryset=None):
    return (queryset or Subscription.objects.all()).exclude(source="trial")


def test_partner_sees_the_customers_subscriptions_and_who_pays(world, client):
    book(world, quantity=3)
    client.force_login(world.partner_owner)
    response = client.get(url("subscription-list", world.customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert "MOD-CRM" in html and "PORTAL-LICENSE" in html
    assert "Invoice recipient: Partner GmbH, the reseller partner of this organization." in html
    assert "15.99" in html and "47.97" in html
    assert "5 licences in force now." in html  # 3 booked + 2 trial


def test_the_nav_shows_subscriptions_to_the_partner_only(world, client):
    dashboard = reverse("organization-dashboard", kwargs={"org": world.customer.public_id})
    link = url("subscription-list", world.customer)
    client.force_login(world.partner_owner)
    assert link in client.get(dashboard).content.decode()
    client.force_login(world.customer_owner)
    assert link not in client.get(dashboard).content.decode()
    assert client.get(link).status_code == 404


def test_booking_takes_two_steps_and_nothing_is_booked_before_the_confirmation(world, client):
    client.force_login(world.partner_admin)
    book_url = url("subscription-book", world.customer)
    assert client.get(book_url).status_code == 200

    review = client.post(book_url, {"step": "review", "product": world.module.pk, "quantity": 3})
    assert review.status_code == 200
    html = review.content.decode()
    assert "Order with obligation to pay" in html and "15.99" in html and "47.97" in html and "Partner GmbH" in html
    assert not paid().exists()

    unconfirmed = client.post(book_url, {"step": "confirm", "product": world.module.pk, "quantity": 3})
    assert unconfirmed.status_code == 400
    assert "Please confirm that you order with obligation to pay." in unconfirmed.content.decode()
    assert not paid().exists()

    confirmed = client.post(
        book_url, {"step": "confirm", "product": world.module.pk, "quantity": 3, "confirm_obligation_to_pay": "on"}
    )
    subscription = paid().get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == url("subscription-detail", world.customer, subscription_id=subscription.pk)
    assert (subscription.payer, subscription.quantity, subscription.booked_by) == (
        world.partner,
        3,
        world.partner_admin,
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"product": 999999, "quantity": 1},
        {"product": "x", "quantity": 1},
        {"quantity": 0},
        {"quantity": "many"},
        {"quantity": 10001},
    ],
)
def test_bad_booking_input_is_shown_not_a_500(world, client, data):
    client.force_login(world.partner_owner)
    response = client.post(
        url("subscription-book", world.customer), {"step": "confirm", "confirm_obligation_to_pay": "on", **data}
    )
    assert response.status_code == 400
    assert not paid().exists()


def test_a_second_booking_of_the_same_product_shows_the_conflict(world, client):
    book(world)
    client.force_login(world.partner_owner)
    response = client.post(
        url("subscription-book", world.customer),
        {"step": "confirm", "product": world.module.pk, "quantity": 1, "confirm_obligation_to_pay": "on"},
    )
    assert response.status_code == 400
    assert "already booked" in response.content.decode()


def test_add_on_booking_through_the_page(world, client):
    subscription = book(world)
    client.force_login(world.partner_owner)
    book_url = url("subscription-book", world.customer) + f"?parent={subscription.pk}"
    page = client.get(book_url).content.decode()
    assert "Book an add-on" in page and f'value="{world.module.pk}"' not in page
    response = client.post(
        url("subscription-book", world.customer),
        {
            "step": "confirm",
            "parent": subscription.pk,
            "product": world.addon.pk,
            "quantity": 2,
            "confirm_obligation_to_pay": "on",
        },
    )
    assert response.status_code == 302
    assert subscription.add_ons.get().product == world.addon
    assert client.get(url("subscription-book", world.customer) + "?parent=abc").status_code == 404
    other = book(world, organization=world.direct, user=world.direct_owner)
    assert client.get(url("subscription-book", world.customer) + f"?parent={other.pk}").status_code == 404


def test_quantity_change_and_cancellation_pages(world, client):
    subscription = book(world, quantity=3)
    client.force_login(world.partner_owner)
    detail = url("subscription-detail", world.customer, subscription_id=subscription.pk)
    assert "Change quantity" in client.get(detail).content.decode()
    quantity_url = url("subscription-quantity", world.customer, subscription_id=subscription.pk)
    assert client.post(quantity_url, {"quantity": "0"}).status_code == 400
    assert client.post(quantity_url, {"quantity": "abc"}).status_code == 400
    assert client.post(quantity_url, {"quantity": "8"}).status_code == 302
    subscription.refresh_from_db()
    assert subscription.quantity == 8

    cancel_url = url("subscription-cancel", world.customer, subscription_id=subscription.pk)
    assert "stays in force" in client.get(cancel_url).content.decode()
    assert client.post(cancel_url).status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"
    again = client.post(cancel_url, follow=True)
    assert "cannot be done now" in again.content.decode()


def test_another_orgs_subscription_is_404(world, client):
    other = book(world, organization=world.direct, user=world.direct_owner)
    client.force_login(world.partner_owner)
    for name in ("subscription-detail", "subscription-cancel"):
        assert client.get(url(name, world.customer, subscription_id=other.pk)).status_code == 404
    assert (
        client.post(url("subscription-quantity", world.customer, subscription_id=other.pk), {"quantity": 2}).status_code
        == 404
    )


def test_pages_in_german(world, client):
    book(world)
    world.partner_owner.language = "de"
    world.partner_owner.save()
    client.force_login(world.partner_owner)
    html = client.get(url("subscription-list", world.customer)).content.decode()
    assert "Abonnements" in html and "Rechnungsempfänger" in html
    assert "15,99\u00a0€" in html  # the portal's one money format (|money)
    assert re.search(r"\d+ Lizenzen sind jetzt gültig", html)


# --- PRJ-5 on the project page ---------------------------------------------------------------


def services_url(project):
    return reverse("project-services", kwargs={"number": project.number})


def test_a_project_admin_orders_a_service_in_two_steps(world, client):
    client.force_login(world.direct_owner)
    detail = client.get(reverse("project-detail", kwargs={"number": world.direct_project.number})).content.decode()
    assert services_url(world.direct_project) in detail
    assert client.get(services_url(world.direct_project)).status_code == 200
    review = client.post(
        services_url(world.direct_project), {"step": "review", "product": world.service.pk, "quantity": 1}
    )
    assert review.status_code == 200 and "7.50" in review.content.decode()
    assert not Subscription.objects.filter(project=world.direct_project).exists()
    assert (
        client.post(
            services_url(world.direct_project), {"step": "confirm", "product": world.service.pk, "quantity": 1}
        ).status_code
        == 400
    )
    response = client.post(
        services_url(world.direct_project),
        {"step": "confirm", "product": world.service.pk, "quantity": 1, "confirm_obligation_to_pay": "on"},
    )
    assert response.status_code == 302
    assert Subscription.objects.get(project=world.direct_project).payer == world.direct


def test_a_linked_customer_orders_without_seeing_partner_conditions(world, client):
    client.force_login(world.customer_owner)
    review = client.post(
        services_url(world.customer_project), {"step": "review", "product": world.service.pk, "quantity": 1}
    )
    html = review.content.decode()
    assert review.status_code == 200 and "6.00" not in html and "7.50" not in html and "Partner GmbH" in html
    client.post(
        services_url(world.customer_project),
        {"step": "confirm", "product": world.service.pk, "quantity": 1, "confirm_obligation_to_pay": "on"},
    )
    page = client.get(services_url(world.customer_project)).content.decode()
    assert "SRV-SSL" in page and "6.00" not in page
    assert Subscription.objects.get(project=world.customer_project).payer == world.partner


@pytest.mark.parametrize("role", [ProjectRole.DEVELOPER, ProjectRole.VIEWER])
def test_developers_and_viewers_get_403(world, client, role):
    user = factories.UserFactory()
    factories.grant(world.direct_project, user, role)
    client.force_login(user)
    assert client.get(services_url(world.direct_project)).status_code == 403
    assert (
        client.post(
            services_url(world.direct_project),
            {"step": "confirm", "product": world.service.pk, "quantity": 1, "confirm_obligation_to_pay": "on"},
        ).status_code
        == 403
    )
    detail = client.get(reverse("project-detail", kwargs={"number": world.direct_project.number})).content.decode()
    assert services_url(world.direct_project) not in detail


def test_caretakers_get_403_and_strangers_404(world, client):
    client.force_login(world.agency_owner)
    assert client.get(services_url(world.customer_project)).status_code == 403
    assert (
        client.post(
            services_url(world.direct_project),
            {"step": "confirm", "product": world.service.pk, "quantity": 1, "confirm_obligation_to_pay": "on"},
        ).status_code
        == 403
    )
    client.force_login(factories.member(factories.OrganizationFactory()))
    assert client.get(services_url(world.direct_project)).status_code == 404
    assert not Subscription.objects.filter(source="service_order").exists()
