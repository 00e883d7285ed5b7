"""Issue 16, subscriptions: the add-on picker offers the parent product's add-ons only (and the
service refuses any other), an add-on is listed under its own parent, "licences in force" counts
licences only (storage in GB), booking step 1 shows the prices and the review the list price,
the partner's discount and the total, dates as days, money in the one |money format."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from billing.models import ProductBilling, Subscription
from portal.errors import InvalidInput

from .conftest import product
from .factories import book

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org": org.public_id, **kwargs})


@pytest.fixture
def catalog(world):
    """A second main product with an add-on of its own (a licence add-on), besides storage."""
    world.shop = product("MOD-SHOP", price="29.00")
    world.payments = product("ADD-PAYMENTS", price="9.00")
    ProductBilling.objects.create(product=world.payments).add_on_to.add(world.shop)
    return world


def options(html: str) -> set[str]:
    return set(re.findall(r'<option value="\d+"[^>]*>[^<]*\((\S+)\)</option>', html))


def test_issue16_add_on_picker_offers_only_the_add_ons_of_the_parent_product(catalog, client):
    world = catalog
    crm = book(world)
    shop = book(world, product=world.shop, quantity=1)
    client.force_login(world.partner_owner)
    book_url = url("subscription-book", world.customer)
    assert options(client.get(f"{book_url}?parent={crm.pk}").content.decode()) == {"ADD-STORAGE"}
    assert options(client.get(f"{book_url}?parent={shop.pk}").content.decode()) == {"ADD-PAYMENTS"}
    # The main booking offers main products only: an add-on is booked from its subscription.
    assert options(client.get(book_url).content.decode()) == {"MOD-CRM", "MOD-SHOP", "SRV-SSL"}


def test_issue16_an_add_on_for_another_product_is_refused_by_service_api_and_page(catalog, client, api_client):
    world = catalog
    crm = book(world)
    with pytest.raises(InvalidInput) as refused:
        book(world, product=world.payments, quantity=1, parent=crm)
    assert refused.value.field == "product" and "is not an add-on to" in refused.value.message
    with pytest.raises(InvalidInput):
        book(world, product=world.payments, quantity=1)  # an add-on never stands alone

    api_client.force_authenticate(world.partner_owner)
    response = api_client.post(
        f"/api/v1/organizations/{world.customer.public_id}/subscriptions/",
        {"product": "ADD-PAYMENTS", "quantity": 1, "parent": crm.pk, "confirm_obligation_to_pay": True},
        format="json",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["details"]
    assert "ADD-PAYMENTS (en)" in error["message"] and "MOD-CRM (en)" in error["message"]

    client.force_login(world.partner_owner)
    page = client.post(
        url("subscription-book", world.customer),
        {"step": "review", "parent": crm.pk, "product": world.payments.pk, "quantity": 1},
    )
    assert page.status_code == 400  # not among the choices: the form says so
    assert "This product cannot be booked here. Choose one of the products offered." in page.content.decode()
    assert not Subscription.objects.filter(product=world.payments).exists()


def test_issue16_an_add_on_is_listed_right_under_its_own_parent(catalog, client):
    world = catalog
    crm = book(world)  # older
    shop = book(world, product=world.shop, quantity=1)  # newer
    storage = book(world, product=world.addon, quantity=2, parent=crm)  # booked last, belongs to the older one
    client.force_login(world.partner_owner)
    html = client.get(url("subscription-list", world.customer)).content.decode()
    rows = re.findall(r'<tr (?:data-subscription="(\d+)"|class="add-on-row" data-parent="(\d+)")', html)
    order = [int(main or parent) for main, parent in rows]
    position = order.index(crm.pk)
    assert order[position + 1] == crm.pk  # the add-on row follows its parent's row
    assert order.index(shop.pk) != position + 1
    assert "Add-on to MOD-CRM (en)" in html

    detail = client.get(url("subscription-detail", world.customer, subscription_id=storage.pk)).content.decode()
    assert "MOD-CRM (en)" in detail and "20 GB storage" in detail
    review = client.post(
        url("subscription-book", world.customer),
        {"step": "review", "parent": shop.pk, "product": world.payments.pk, "quantity": 1},
    ).content.decode()
    assert "Add-on to" in review and "MOD-SHOP (en)" in review


def test_issue16_licences_in_force_count_licences_only_and_storage_in_gb(world, client):
    main = book(world, quantity=3)
    book(world, product=world.addon, quantity=5, parent=main)  # 5 packs of 10 GB
    client.force_login(world.partner_owner)
    html = client.get(url("subscription-list", world.customer)).content.decode()
    trial = sum(s.quantity for s in Subscription.objects.filter(organization=world.customer, source="trial"))
    assert f"{3 + trial} licences in force now." in html
    assert "Also in force: 50 GB storage." in html
    assert "50 GB storage</td>" in html and "3 licences</td>" in html

    world.partner_owner.language = "de"
    world.partner_owner.save()
    html = client.get(url("subscription-list", world.customer)).content.decode()
    assert f"{3 + trial} Lizenzen sind jetzt gültig." in html
    assert "Außerdem gültig: 50 GB Speicher." in html


def test_issue16_licence_wording_singular_and_plural():
    from billing.units import Unit, amount_text

    assert [amount_text(Unit.LICENCE, n) for n in (1, 2)] == ["1 licence", "2 licences"]
    with translation.override("de"):
        assert [amount_text(Unit.LICENCE, n) for n in (1, 2)] == ["1 Lizenz", "2 Lizenzen"]
        assert amount_text(Unit.GB_STORAGE, 1500) == "1.500 GB Speicher"
        assert amount_text(Unit.SERVICE, 1) == "1 Dienstleistung"


def test_issue16_booking_step_one_shows_list_and_partner_prices_per_unit_and_month(world, client):
    client.force_login(world.partner_owner)
    html = client.get(url("subscription-book", world.customer)).content.decode()
    crm_row = re.search(r'<tr data-sku="MOD-CRM">(.*?)</tr>', html, re.S).group(1)
    assert "€19.99" in crm_row and "€15.99" in crm_row and "per licence and month" in crm_row
    assert "Your partner price" in html and "20 % off the list price" in html


def test_issue16_the_review_shows_list_price_discount_and_total(world, client):
    client.force_login(world.partner_owner)
    html = client.post(
        url("subscription-book", world.customer), {"step": "review", "product": world.module.pk, "quantity": 3}
    ).content.decode()
    # list 3 × 19.99 = 59.97, partner 3 × 15.99 = 47.97, discount 12.00 a month
    assert "List price" in html and "€19.99" in html
    assert "20 % discount" in html and "€15.99" in html and "−€12.00" in html
    assert "Total per month (net, plus VAT)" in html and "€47.97" in html
    assert "3 licences" in html
    assert " EUR" not in html  # one money format: "€47.97", never "47.97 EUR"


def test_issue16_customers_never_see_partner_prices(world, client):
    # A direct customer books at list price: no partner column, no discount.
    client.force_login(world.direct_owner)
    step_one = client.get(url("subscription-book", world.direct)).content.decode()
    assert "€19.99" in step_one and "€15.99" not in step_one and "partner price" not in step_one.lower()
    review = client.post(
        url("subscription-book", world.direct), {"step": "review", "product": world.module.pk, "quantity": 1}
    ).content.decode()
    assert "€19.99" in review and "€15.99" not in review and "discount" not in review
    # A partner-linked customer's own Owner ordering a project service sees no prices at all.
    client.force_login(world.customer_owner)
    services_url = reverse("project-services", kwargs={"number": world.customer_project.number})
    review = client.post(services_url, {"step": "review", "product": world.service.pk, "quantity": 1})
    html = review.content.decode()
    assert review.status_code == 200 and "€6.00" not in html and "€7.50" not in html and "discount" not in html


def test_issue16_subscription_dates_are_days_with_the_inclusive_end(world, client):
    client.force_login(world.partner_owner)
    trial = Subscription.objects.filter(organization=world.customer, source="trial").first()
    if trial is None:
        pytest.skip("the world's customer has no trial")
    html = client.get(url("subscription-detail", world.customer, subscription_id=trial.pk)).content.decode()
    from portal.templatetags.ui import until

    assert "Trial ends" in html and until(trial.ends_at) in html
    assert "midnight" not in html and "a.m." not in html and "p.m." not in html
