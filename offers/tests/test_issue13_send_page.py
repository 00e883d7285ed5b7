"""Issue 13 (scale): the send-offer page reads only what the step it shows needs.

Without a chosen customer it lists the partner's customers (10,000 at scale) and reads no
template preview; with one it shows the offer form and the template's preview, and no list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from . import factories as of

pytestmark = pytest.mark.django_db

PREVIEW_TABLES = ('"offers_offertemplateitem"', '"offers_partnercondition"')
# A column that only a whole customer org would select.
WHOLE_ORG = '"billing_email"'


def _get(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries], response.content.decode()


def test_issue13_send_page_lists_customers_without_reading_a_template_preview(world, client):
    of.template(world.partner, products=world.products)
    client.force_login(world.partner_admin)
    send_url = reverse("offer-send", kwargs={"org": world.partner.public_id})
    sql, listing = _get(client, send_url)
    assert world.customer.name in listing and f"?customer={world.customer.public_id}" in listing
    assert "You have no offer templates yet" not in listing
    assert not [q for q in sql if any(table in q for table in PREVIEW_TABLES)]
    [customers] = [q for q in sql if 'FROM "organizations_organization"' in q and "ORDER BY" in q]
    assert WHOLE_ORG not in customers  # of each customer only its name and identifier
    sql, form = _get(client, f"{send_url}?customer={world.customer.public_id}")
    assert "Offer to Kunde AG" in form and 'data-testid="partner-total"' in form
    assert [q for q in sql if '"offers_offertemplateitem"' in q]
    assert not [q for q in sql if "COUNT(" in q and '"organizations_organization"' in q]  # no customer list


def test_issue13_send_page_without_templates_says_so(world, client):
    client.force_login(world.partner_admin)
    send_url = reverse("offer-send", kwargs={"org": world.partner.public_id})
    assert "You have no offer templates yet" in client.get(send_url).content.decode()
    chosen = client.get(f"{send_url}?customer={world.customer.public_id}").content.decode()
    assert "You have no offer templates yet" in chosen
