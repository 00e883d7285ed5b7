"""Issue 16, "Dashboards per side" and "First steps": what the partner, the customer and the agency
see on their org's dashboard – counts, a few rows, a link to the full list, empty states with a
next step – in a number of queries that does not grow with the data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription
from delegations.tests import factories as delegation_factories
from offers.models import Offer
from offers.tests import factories as offer_factories
from organizations.dashboards import PANEL_ITEMS
from organizations.models import CustomerRelation, Organization
from organizations.roles import OrgRole
from tests import factories

pytestmark = pytest.mark.django_db


def dashboard(client, organization):
    """The dashboard page, then each panel it lays out, fetched as the page's htmx does: the page
    response gets `.panels` (key → Panel, hidden ones left out) and `.html` (page and panels)."""
    page = client.get(reverse("organization-dashboard", kwargs={"org": organization.public_id}))
    if page.status_code != 200:
        return page
    page.panels, html = {}, [page.content.decode()]
    for key in page.context["panel_keys"]:
        url = reverse("organization-dashboard-panel", kwargs={"org": organization.public_id, "panel": key})
        assert f'hx-get="{url}"' in html[0]
        response = client.get(url)
        assert response.status_code == 200, (key, response.status_code)
        if response.context["panel"] is not None:
            page.panels[key] = response.context["panel"]
            html.append(response.content.decode())
        else:
            assert not response.content.strip()  # the page drops the slot
    page.html = "".join(html)
    return page


def panels_of(response) -> dict:
    return response.panels


def add_customers(partner, count: int, *, offers: bool = True) -> list[Organization]:
    """`count` linked customers, each with an offer awaiting an answer, a failed delivery and a
    trial ending within 14 days (every row a panel could show)."""
    customers = []
    template = offer_factories.template(partner, actor=offer_factories.owner_of(partner)) if offers else None
    for _index in range(count):
        customer = factories.OrganizationFactory(street="Hauptstr. 1", postcode="10115", city="Berlin")
        factories.link(partner, customer)
        if offers:
            offer_factories.offer(partner, customer, tmpl=template)
            offer_factories.offer(partner, customer, tmpl=template, status=Offer.Status.DELIVERY_FAILED)
        Subscription.objects.filter(organization=customer, source=Subscription.Source.TRIAL).update(
            ends_at=timezone.now() + timedelta(days=5)
        )
        customers.append(customer)
    return customers


# --- partner ----------------------------------------------------------------------------------


def test_partner_dashboard_shows_customers_by_state_offers_trials_and_failed_deliveries(client):
    partner = factories.PartnerFactory(name="Partner GmbH")
    owner = factories.member(partner, OrgRole.OWNER)
    active = add_customers(partner, 3)
    archived = factories.OrganizationFactory(name="Old Customer", status=Organization.Status.ARCHIVED)
    factories.link(partner, archived)
    asked = factories.OrganizationFactory(name="Maybe AG")
    CustomerRelation.objects.create(partner=partner, customer=asked, status=CustomerRelation.Status.REQUESTED)
    # a trial ending later than 14 days is not "ending"
    late = factories.OrganizationFactory(name="Late Trial AG")
    factories.link(partner, late)

    client.force_login(owner)
    response = dashboard(client, partner)
    panels = panels_of(response)
    assert list(panels) == ["customers", "requests", "offers_awaiting", "failed_deliveries", "trials"]

    customers = panels["customers"]
    assert customers.count == 4  # active customers
    assert [(row.label, row.detail) for row in customers.items] == [
        ("Active", "4"),
        ("Connection requested", "1"),
        ("Archived", "1"),
    ]
    assert panels["requests"].count == 1
    assert "Waiting for Maybe AG to accept your connection request" in panels["requests"].items[0].label
    assert panels["offers_awaiting"].count == 3 and len(panels["offers_awaiting"].items) == 3
    assert panels["offers_awaiting"].more_url.endswith("?status=waiting_for_confirmation")
    assert panels["failed_deliveries"].count == 3
    assert {item.detail for item in panels["failed_deliveries"].items} == {c.name for c in active}
    assert panels["trials"].count == 3
    assert {item.label for item in panels["trials"].items} == {c.name for c in active}

    html = response.html
    assert "Offers awaiting an answer" in html and "Trials ending in the next 14 days" in html
    assert "Failed deliveries" in html and "Connection requested" in html


def test_partner_dashboard_panels_show_at_most_five_rows_and_a_link_to_the_list(client):
    partner = factories.PartnerFactory()
    owner = factories.member(partner, OrgRole.OWNER)
    add_customers(partner, 7)
    client.force_login(owner)
    panels = panels_of(dashboard(client, partner))
    assert panels["offers_awaiting"].count == 7 and len(panels["offers_awaiting"].items) == 5
    assert panels["trials"].count == 7 and len(panels["trials"].items) == 5
    assert panels["offers_awaiting"].more_url == reverse("offer-list", kwargs={"org": partner.public_id}) + (
        "?status=waiting_for_confirmation"
    )


def test_new_partner_dashboard_has_empty_states_that_say_what_to_do(client):
    partner = factories.PartnerFactory()
    owner = factories.member(partner, OrgRole.OWNER)
    client.force_login(owner)
    html = dashboard(client, partner).html
    assert "No offer is waiting for an answer" in html
    assert "Send an offer from a template" in html
    assert "Every offer was delivered" in html
    assert "No trial ends in the next 14 days" in html


def test_partner_member_sees_only_assigned_customers_and_no_billing_panel(client):
    partner = factories.PartnerFactory()
    member = factories.member(partner, OrgRole.MEMBER)
    first, _second = add_customers(partner, 2, offers=False)
    factories.assign(member, partner, first)
    client.force_login(member)
    panels = panels_of(dashboard(client, partner))
    assert panels["customers"].count == 1
    assert "trials" not in panels and "requests" not in panels


# --- customer ---------------------------------------------------------------------------------


def test_new_customer_owner_sees_getting_started_and_no_end_relation_button(client):
    partner = factories.PartnerFactory(name="Demo Partner GmbH")
    customer = factories.OrganizationFactory(name="Neukunde GmbH", street="", postcode="", city="")
    factories.link(partner, customer)
    owner = factories.member(customer, OrgRole.OWNER)
    client.force_login(owner)
    response = dashboard(client, customer)
    html = response.html
    panels = panels_of(response)
    assert list(panels) == ["getting_started", "offers_to_answer", "requests", "caretakers"]
    steps = panels["getting_started"].items
    assert [step.done for step in steps] == [False, False, False]
    assert steps[0].url == reverse("organization-profile", kwargs={"org": customer.public_id})
    assert steps[1].url == reverse("invitation-create", kwargs={"org": customer.public_id})
    assert "Getting started" in html and "Invite your colleagues" in html
    # First steps: ending the relation is not on the dashboard any more …
    assert reverse("organization-reseller-end", kwargs={"org": customer.public_id}) not in html
    assert "End the relation" not in html
    # … but in the reseller section of the settings, an outline button behind a confirmation
    settings_page = client.get(reverse("organization-profile", kwargs={"org": customer.public_id})).content.decode()
    assert reverse("organization-reseller-end", kwargs={"org": customer.public_id}) in settings_page
    assert 'class="btn btn-outline-danger">End the relation to Demo Partner GmbH' in settings_page
    assert 'data-confirm-dialog="end-reseller"' in settings_page and '<dialog id="end-reseller"' in settings_page


def test_getting_started_disappears_once_every_step_is_done(client):
    partner = factories.PartnerFactory()
    customer = factories.OrganizationFactory(street="Hauptstr. 1", postcode="10115", city="Berlin")
    factories.link(partner, customer)
    owner = factories.member(customer, OrgRole.OWNER)
    factories.member(customer, OrgRole.MEMBER)
    offer_factories.offer(partner, customer, status=Offer.Status.ACCEPTED)
    client.force_login(owner)
    assert "getting_started" not in panels_of(dashboard(client, customer))


def test_customer_dashboard_lists_offers_requests_and_caretakers(client):
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Kunde AG")
    factories.link(partner, customer)
    owner = factories.member(customer, OrgRole.OWNER)
    offer_factories.offer(partner, customer)
    agency = factories.OrganizationFactory(name="Agentur GmbH")
    delegation_factories.manager(agency)
    shop = factories.project(customer, "Shop")
    intranet = factories.project(customer, "Intranet")
    delegation_factories.active(shop, agency)
    delegation_factories.request(intranet, agency)

    client.force_login(owner)
    panels = panels_of(dashboard(client, customer))
    assert panels["offers_to_answer"].count == 1
    assert panels["offers_to_answer"].items[0].detail == "Partner GmbH"
    assert panels["requests"].count == 1
    assert panels["requests"].items[0].label == f"Agentur GmbH asks to take care of {intranet.number}"
    assert panels["caretakers"].count == 1
    assert panels["caretakers"].items[0].label == "Agentur GmbH"
    assert shop.number in panels["caretakers"].items[0].detail


def test_customer_guest_sees_no_checklist_and_no_requests(client):
    customer = factories.OrganizationFactory()
    factories.member(customer, OrgRole.OWNER)
    guest = factories.member(customer, OrgRole.GUEST)
    client.force_login(guest)
    assert list(panels_of(dashboard(client, customer))) == ["offers_to_answer"]


# --- agency -----------------------------------------------------------------------------------


def test_agency_dashboard_shows_cared_for_projects_and_releases_ending_soon(client):
    agency = factories.OrganizationFactory(name="Agentur GmbH")
    agency_owner = delegation_factories.manager(agency)
    customer = factories.OrganizationFactory(name="Kunde AG")
    delegation_factories.manager(customer)
    soon = factories.project(customer, "Soon")
    later = factories.project(customer, "Later")
    open_ended = factories.project(customer, "Open")
    delegation_factories.active(soon, agency, ends_at=timezone.now() + timedelta(days=10))
    delegation_factories.active(later, agency, ends_at=timezone.now() + timedelta(days=40))
    delegation_factories.active(open_ended, agency)

    client.force_login(agency_owner)
    panels = panels_of(dashboard(client, agency))
    assert panels["cared_for"].count == 3
    assert panels["releases_ending"].count == 1
    assert panels["releases_ending"].items[0].label == f"{soon.number} Soon"
    assert panels["releases_ending"].items[0].detail == "Kunde AG"


# --- query budget -----------------------------------------------------------------------------


def count_queries(client, organization) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert dashboard(client, organization).status_code == 200
    return len(queries)


def test_partner_dashboard_queries_do_not_grow_with_ten_times_the_data(client):
    partner = factories.PartnerFactory()
    owner = factories.member(partner, OrgRole.OWNER)
    add_customers(partner, PANEL_ITEMS)  # every panel full: its COUNT runs
    client.force_login(owner)
    dashboard(client, partner)  # warm caches (content types, sessions)
    small = count_queries(client, partner)
    add_customers(partner, 9 * PANEL_ITEMS)
    assert count_queries(client, partner) == small


def test_partner_dashboard_counts_stop_at_the_cap_and_say_so(client, monkeypatch):
    """Counting 50,000 waiting offers exactly would cost more than the page (issue 13): the count
    stops at COUNT_CAP and shows "N+"; below the cap it is exact."""
    from organizations import dashboards

    partner = factories.PartnerFactory()
    owner = factories.member(partner, OrgRole.OWNER)
    add_customers(partner, PANEL_ITEMS + 2)
    client.force_login(owner)
    monkeypatch.setattr(dashboards, "COUNT_CAP", PANEL_ITEMS + 1)
    response = dashboard(client, partner)
    panels = panels_of(response)
    assert (panels["offers_awaiting"].count, panels["offers_awaiting"].capped) == (PANEL_ITEMS + 1, True)
    assert f"{PANEL_ITEMS + 1}+</span>" in response.html
    monkeypatch.setattr(dashboards, "COUNT_CAP", 1000)
    panels = panels_of(dashboard(client, partner))
    assert (panels["offers_awaiting"].count, panels["offers_awaiting"].capped) == (PANEL_ITEMS + 2, False)


def test_customer_and_agency_dashboard_queries_do_not_grow_with_ten_times_the_data(client, settings):
    settings.DELEGATION_REQUESTS_PER_HOUR = 1000  # the factories create every delegation by request
    partner = factories.PartnerFactory()
    customer = factories.OrganizationFactory()
    factories.link(partner, customer)
    owner = delegation_factories.manager(customer)
    agency = factories.OrganizationFactory()
    agency_owner = delegation_factories.manager(agency)
    template = offer_factories.template(partner, actor=offer_factories.owner_of(partner))

    def grow(count):
        for index in range(count):
            offer_factories.offer(partner, customer, tmpl=template)
            project = factories.project(customer, f"P{count}-{index}")
            delegation_factories.active(project, agency, ends_at=timezone.now() + timedelta(days=3))
            delegation_factories.request(factories.project(customer, f"R{count}-{index}"), agency)

    grow(PANEL_ITEMS)  # every panel full: its COUNT runs
    client.force_login(owner)
    dashboard(client, customer)
    customer_small = count_queries(client, customer)
    client.force_login(agency_owner)
    dashboard(client, agency)
    agency_small = count_queries(client, agency)
    grow(9 * PANEL_ITEMS)
    assert count_queries(client, agency) == agency_small
    client.force_login(owner)
    assert count_queries(client, customer) == customer_small


def test_dashboard_panel_route_refuses_unknown_and_unseen_panels(client):
    """An unknown key answers 404; a panel the role does not see answers an empty fragment (the
    dashboard page never asks for it), with none of the panel's content."""
    partner = factories.PartnerFactory()
    member = factories.member(partner, OrgRole.MEMBER)
    client.force_login(member)

    def panel(key):
        return client.get(reverse("organization-dashboard-panel", kwargs={"org": partner.public_id, "panel": key}))

    assert panel("no-such-panel").status_code == 404
    for unseen in ("requests", "getting_started"):  # Owners/Admins only; a customer's panel
        response = panel(unseen)
        assert response.status_code == 200 and response.context["panel"] is None
        assert not response.content.strip()
    assert panel("offers_awaiting").context["panel"].key == "offers_awaiting"
