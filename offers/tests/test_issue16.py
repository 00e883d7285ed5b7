"""Issue 16, module offers: the template editor (columns, "Saved", search refresh, a product
once, partner price and margin), duplicate open offers, the customer's decision layout, one
naming, dates that agree with the subscription, money and dates in pages and emails."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from offers import services
from offers.models import Offer, OfferTemplateItem
from portal.errors import Conflict
from portal.models import OutboxMessage
from portal.outbox import outbox_process_message
from portal.templatetags.ui import until

from . import factories as of

pytestmark = pytest.mark.django_db


def url(world, name, org=None, **kwargs):
    return reverse(name, kwargs={"org": (org or world.partner).public_id, **kwargs})


def partner_ctx(world):
    return of.context(world.partner_owner, world.partner)


# --- the template editor --------------------------------------------------------------------------


def test_editor_items_table_has_a_column_per_input_and_partner_price_and_margin(world, client):
    template = of.template(world.partner, products=[world.products[0]])
    item = template.items.get()
    client.force_login(world.partner_admin)
    html = client.get(url(world, "offer-template-detail", template_id=template.pk)).content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html.split('id="template-items"')[1].split("</thead>")[0])
    assert [re.sub("<[^>]+>", "", h).strip() for h in headers] == [
        "Product",
        "Quantity",
        "Term in months",
        "License mode",
        "List price",
        "Selling price",
        "Partner price",
        "Margin",
        "Actions",
    ]
    row = html.split(f'id="item-{item.pk}"')[1].split("</tr>")[0]
    assert "colspan" not in row  # no cell spans the inputs any more
    cells = row.split("<td")[1:]
    assert len(cells) == 9
    assert 'name="quantity"' in cells[1] and 'name="term_months"' in cells[2]
    assert "<select" in cells[3] and 'name="license_mode"' in cells[3] and "<select" not in cells[1]
    assert 'name="unit_price"' in cells[5]
    # 20 % partner discount on 10.00: the partner pays 8.00 and keeps 2.00 (20 %)
    assert "€8.00" in cells[6] and "€2.00" in cells[7] and "20.0 %" in cells[7]


def test_editor_says_saved_after_each_change_in_a_live_region(world, client):
    template = of.template(world.partner, products=[world.products[0]])
    item = template.items.get()
    client.force_login(world.partner_admin)
    page = client.get(url(world, "offer-template-detail", template_id=template.pk)).content.decode()
    assert 'id="save-status" role="status" aria-live="polite"' in page
    changed = client.post(
        url(world, "offer-template-item-update", template_id=template.pk, item_id=item.pk),
        {"quantity": "3", "term_months": "12", "license_mode": "absolute", "unit_price": "9.50"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'id="save-status" hx-swap-oob="innerHTML"' in changed and "Saved at" in changed
    assert "€1.50" in changed  # the margin follows the new selling price (9.50 − 8.00)
    refused = client.post(
        url(world, "offer-template-item-update", template_id=template.pk, item_id=item.pk),
        {"unit_price": "abc"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Not saved." in refused and "Saved at" not in refused


def test_search_results_refresh_after_adding_and_mark_products_already_in_the_template(world, client):
    template = of.template(world.partner, products=[])
    product = world.products[0]
    client.force_login(world.partner_admin)
    search = url(world, "offer-template-products", template_id=template.pk)
    before = client.get(search, {"q": product.sku}, HTTP_HX_REQUEST="true").content.decode()
    assert "In this template" not in before and 'name="product"' in before
    added = client.post(
        url(world, "offer-template-item-add", template_id=template.pk),
        {"product": product.pk, "q": product.sku},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    results = added.split('id="product-results" hx-swap-oob="innerHTML"')[1]
    assert product.sku in results and "In this template" in results and 'name="product"' not in results
    after = client.get(search, {"q": product.sku}, HTTP_HX_REQUEST="true").content.decode()
    assert "In this template" in after and 'name="product"' not in after


def test_the_same_product_cannot_be_added_twice(world, client, api_client):
    template = of.template(world.partner, products=[world.products[0]])
    with pytest.raises(Conflict) as refused:
        services.offer_template_add_product(
            template=template, context=partner_ctx(world), product_id=world.products[0].pk, actor=world.partner_owner
        )
    assert refused.value.code == "duplicate_item"
    client.force_login(world.partner_admin)
    html = client.post(
        url(world, "offer-template-item-add", template_id=template.pk),
        {"product": world.products[0].pk},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "is already in this template" in html and 'role="alert"' in html
    api_client.force_authenticate(world.partner_admin)
    response = api_client.post(
        f"/api/v1/organizations/{world.partner.public_id}/offer-templates/{template.pk}/items/",
        {"product": world.products[0].pk},
        format="json",
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "duplicate_item"
    assert OfferTemplateItem.objects.filter(template=template).count() == 1


def test_send_form_shows_partner_price_and_margin_before_sending(world, client):
    template = of.template(world.partner, products=[world.products[0]])
    client.force_login(world.partner_admin)
    html = client.get(
        url(world, "offer-send"), {"customer": world.customer.public_id, "template": template.pk}
    ).content.decode()
    preview = html.split('id="send-preview"')[1]
    assert "Partner price" in preview and "€8.00" in preview and "Margin" in preview and "€2.00" in preview
    fragment = client.get(
        url(world, "offer-send"),
        {"customer": world.customer.public_id, "template": template.pk, "fragment": "preview"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert fragment.startswith('<div id="send-preview"') and "€8.00" in fragment


# An ISO timestamp's seconds and fraction ("…T18:22:13.345678Z") can read like an amount
# ("13.34"): the scans below leave timestamps out (the test failed once in CI that way).
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


def leaked(secrets, text: str) -> list[str]:
    text = ISO_TIMESTAMP.sub("<timestamp>", text)
    return [secret for secret in secrets if secret in text]


def test_leak_scan_ignores_timestamps_but_not_amounts():
    assert leaked(["13.34"], '{"created_at": "2026-12-04T18:22:13.345678Z"}') == []
    assert leaked(["13.34"], '{"created_at": "2026-12-04 18:22:13.345678+00:00"}') == []
    assert leaked(["13.34"], '{"margin": "13.34", "created_at": "2026-12-04T18:22:13Z"}') == ["13.34"]


def test_customers_never_see_what_the_partner_pays(world, client, api_client):
    # 33.33 list → 26.66 partner price; sold at 40.00: margin 13.34
    template = of.template(world.partner, products=[world.products[1]])
    services.offer_template_update_item(
        item=template.items.get(), context=partner_ctx(world), actor=world.partner_owner, unit_price="40.00"
    )
    offer = services.offer_send(
        context=partner_ctx(world), template=template, customer=world.customer, actor=world.partner_owner
    )
    services.offer_deliver(offer_id=offer.pk)
    secrets = ("26.66", "26,66", "13.34", "13,34", "33.33", "33,33")
    client.force_login(world.partner_owner)
    partner_page = client.get(url(world, "offer-detail", offer_id=offer.pk)).content.decode()
    assert "€26.66" in partner_page and "€13.34" in partner_page  # the partner sees them

    client.force_login(world.customer_admin)
    for page in (
        client.get(url(world, "offer-detail", org=world.customer, offer_id=offer.pk)),
        client.get(url(world, "offer-list", org=world.customer)),
    ):
        html = page.content.decode()
        assert page.status_code == 200 and ("€40.00" in html or "€960.00" in html)
        assert not leaked(secrets, html)
        assert "Partner price" not in html and "Margin" not in html
    api_client.force_authenticate(world.customer_admin)
    body = api_client.get(f"/api/v1/organizations/{world.customer.public_id}/offers/{offer.pk}/").content.decode()
    assert not leaked(secrets, body) and "purchase" not in body
    for row in OutboxMessage.objects.filter(kind="email.send", status=OutboxMessage.Status.PENDING):
        outbox_process_message(message_id=row.pk)
    assert mail.outbox
    for message in mail.outbox:
        assert not leaked(secrets, message.body), message.body


# --- duplicate open offers ------------------------------------------------------------------------


def test_sending_an_open_duplicate_is_refused_with_the_existing_offer(world):
    template = of.template(world.partner, products=world.products)
    first = services.offer_send(
        context=partner_ctx(world), template=template, customer=world.customer, actor=world.partner_owner
    )
    with pytest.raises(services.DuplicateOffer) as refused:
        services.offer_send(
            context=partner_ctx(world), template=template, customer=world.customer, actor=world.partner_owner
        )
    assert refused.value.existing == first and refused.value.status == 409
    # another template with the same items is the same offer too
    twin = of.template(world.partner, products=world.products)
    with pytest.raises(services.DuplicateOffer):
        services.offer_send(
            context=partner_ctx(world), template=twin, customer=world.customer, actor=world.partner_owner
        )
    second = services.offer_send(
        context=partner_ctx(world),
        template=template,
        customer=world.customer,
        actor=world.partner_owner,
        allow_duplicate=True,
    )
    assert second.pk != first.pk
    # a withdrawn offer is no longer open: sending again is fine
    for offer in (first, second):
        services.offer_cancel(offer=offer, context=partner_ctx(world), actor=world.partner_owner)
    services.offer_send(
        context=partner_ctx(world), template=template, customer=world.customer, actor=world.partner_owner
    )


def test_send_page_warns_links_the_existing_offer_and_sends_anyway(world, client):
    template = of.template(world.partner, products=world.products)
    first = of.offer(world.partner, world.customer, tmpl=template)
    client.force_login(world.partner_admin)
    data = {"customer": world.customer.public_id, "template": template.pk, "message": ""}
    warned = client.post(url(world, "offer-send"), data)
    html = warned.content.decode()
    assert warned.status_code == 200 and 'data-testid="duplicate-offer"' in html
    assert url(world, "offer-detail", offer_id=first.pk) in html
    assert 'name="allow_duplicate" value="1"' in html and "Send anyway" in html
    assert Offer.objects.filter(customer=world.customer).count() == 1
    sent = client.post(url(world, "offer-send"), {**data, "allow_duplicate": "1"})
    assert sent.status_code == 302
    assert Offer.objects.filter(customer=world.customer).count() == 2


def test_api_send_duplicate_is_409_with_details_and_allow_duplicate_sends(world, api_client):
    template = of.template(world.partner, products=world.products)
    first = of.offer(world.partner, world.customer, tmpl=template)
    api_client.force_authenticate(world.partner_admin)
    endpoint = f"/api/v1/organizations/{world.partner.public_id}/offers/"
    data = {"customer": world.customer.public_id, "template": template.pk}
    refused = api_client.post(endpoint, data, format="json")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "duplicate_offer" and error["details"]["existing_offer"]["id"] == first.pk
    assert error["details"]["allow_duplicate"]
    sent = api_client.post(endpoint, {**data, "allow_duplicate": True}, format="json")
    assert sent.status_code == 201


# --- the customer's decision, naming ----------------------------------------------------------------


def test_accept_is_the_primary_action_and_decline_has_its_own_section_with_the_reason(world, client):
    offer = of.offer(world.partner, world.customer)
    client.force_login(world.customer_admin)
    html = client.get(url(world, "offer-detail", org=world.customer, offer_id=offer.pk)).content.decode()
    accept_url = url(world, "offer-accept", org=world.customer, offer_id=offer.pk)
    accept_form = html.split(f'action="{accept_url}"')[1].split("</form>")[0]
    assert "btn-primary" in accept_form and "Accept offer" in accept_form and "textarea" not in accept_form
    decline = html.split('<details class="decline-section')[1].split("</details>")[0]
    assert "Decline offer…" in decline and 'name="reason"' in decline and "Decline offer</button>" in decline
    assert html.index(accept_url) < html.index('name="reason"')  # the reason no longer sits between them


def test_one_word_set_for_offer_statuses_and_actions(world, client):
    assert [label for _, label in Offer.Status.choices] == [
        "Sending",
        "Awaiting decision",
        "Delivery failed",
        "Accepted",
        "Declined",
        "Withdrawn",
    ]
    with translation.override("de"):
        assert str(Offer.Status.CANCELLED.label) == "Zurückgezogen"
        assert str(Offer.Status.WAITING.label) == "Wird gesendet"
    offer = of.offer(world.partner, world.customer)
    services.offer_cancel(offer=offer, context=partner_ctx(world), actor=world.partner_owner)
    client.force_login(world.partner_admin)
    html = client.get(url(world, "offer-detail", offer_id=offer.pk)).content.decode()
    assert "Withdrawn" in html and "Cancelled" not in html


# --- dates and money ---------------------------------------------------------------------------------


def test_offer_until_date_and_the_subscription_end_agree(world, client):
    billing_models = pytest.importorskip("billing.models")
    offer = of.offer(world.partner, world.customer, tmpl=of.template(world.partner, products=[world.products[0]]))
    services.offer_accept(
        offer=offer, context=of.context(world.customer_owner, world.customer), actor=world.customer_owner
    )
    item = offer.items.get()
    accepted_on = timezone.localdate()
    # 12 months from acceptance, inclusive: the day before the same date a year later
    assert item.ends_on == accepted_on + relativedelta(months=12) - timedelta(days=1)
    subscription = billing_models.Subscription.objects.get(offer_item_id=item.pk)
    assert timezone.localtime(subscription.ends_at).date() == accepted_on + relativedelta(months=12)
    assert until(subscription.ends_at) == until(item.ends_on)
    client.force_login(world.customer_admin)
    html = client.get(url(world, "offer-detail", org=world.customer, offer_id=offer.pk)).content.decode()
    assert f"until {until(item.ends_on)}" in html and "midnight" not in html


def test_offer_email_formats_money_in_the_recipients_language(world):
    template = of.template(world.partner, products=[world.products[0]])
    services.offer_template_update_item(
        item=template.items.get(),
        context=partner_ctx(world),
        actor=world.partner_owner,
        quantity=10,
        unit_price="1234.50",
    )
    offer = services.offer_send(
        context=partner_ctx(world), template=template, customer=world.customer, actor=world.partner_owner
    )
    services.offer_deliver(offer_id=offer.pk)
    for row in OutboxMessage.objects.filter(kind="email.send", status=OutboxMessage.Status.PENDING):
        outbox_process_message(message_id=row.pk)
    by_recipient = {message.to[0]: message.body for message in mail.outbox}
    total = Decimal("1234.50") * 10 * 12
    assert total == Decimal("148140.00")
    assert "148.140,00\u00a0€" in by_recipient[world.customer_owner.email]  # German
    assert "€148,140.00" in by_recipient[world.customer_admin.email]  # English
    assert "EUR" not in by_recipient[world.customer_owner.email]


def test_bulk_send_skips_customers_with_an_open_offer_of_the_same_template(world):
    from offers.tests.test_bulk import many_customers

    customers = many_customers(world.partner, 3)
    template = of.template(world.partner, products=world.products)
    of.offer(world.partner, customers[0], tmpl=template)  # open: skipped
    withdrawn = of.offer(world.partner, customers[1], tmpl=template)
    services.offer_cancel(offer=withdrawn, context=partner_ctx(world), actor=world.partner_owner)  # not open
    bulk = services.offer_bulk_send_start(
        context=partner_ctx(world),
        template=template,
        customers=[c.public_id for c in customers],
        actor=world.partner_owner,
    )
    bulk = services.offer_bulk_send_process(bulk_send_id=bulk.pk)
    assert (bulk.sent_count, bulk.skipped_count) == (2, 1)
    assert not Offer.objects.filter(bulk_send=bulk, customer=customers[0]).exists()


def test_an_accepted_offer_reads_in_german_for_the_customer(world, client):
    offer = of.offer(world.partner, world.customer)
    services.offer_accept(
        offer=offer, context=of.context(world.customer_owner, world.customer), actor=world.customer_owner
    )
    client.force_login(world.customer_owner)  # language "de"
    html = client.get(url(world, "offer-detail", org=world.customer, offer_id=offer.pk)).content.decode()
    assert "Angenommen" in html and "Accepted" not in html and "bis " in html
