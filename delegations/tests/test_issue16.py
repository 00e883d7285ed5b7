"""Issue 16, caretakers: columns by role on every tab from both sides, the primary action by the
org's part, the caretaker's refusal on paid services naming the customer (page and API), the
inclusive end date in notifications, and the caretaker's scope on the project pages."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from delegations import services
from delegations.forms import end_of_day
from delegations.tests import factories as df
from portal.models import Notification

pytestmark = pytest.mark.django_db


class _Table(HTMLParser):
    """The first <table>'s header cells and rows, as text."""

    def __init__(self):
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_head = False
        self._tables = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._tables += 1
        if self._tables != 1:
            return
        if tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.rows.append([])
        elif tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag):
        if self._tables != 1:
            return
        if tag == "thead":
            self._in_head = False
        elif tag in ("th", "td") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            (self.headers if self._in_head else self.rows[-1]).append(text)
            self._cell = None
        elif tag == "table":
            self._tables += 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_of(client, org, tab) -> list[dict[str, str]]:
    response = client.get(reverse("delegation-list", kwargs={"org": org.public_id}) + f"?tab={tab}")
    assert response.status_code == 200
    parser = _Table()
    parser.feed(response.content.decode())
    return [dict(zip(parser.headers, row, strict=True)) for row in parser.rows]


def test_issue16_every_tab_labels_its_columns_by_role_from_both_sides(world, client):
    """The "Ended" tab showed the customer under "Caretaker" to the agency; each tab now names
    the other side by its role, and "Ended" shows both."""
    df.request(world.project, world.agency)  # incoming / outgoing
    managed = df.active(world.delegated_project, world.agency, ends_at=end_of_day(date(2030, 6, 30)))
    client.force_login(world.customer_admin)
    [row] = table_of(client, world.customer, "incoming")
    assert row["Caretaker"] == "Agentur GmbH" and "Customer" not in row
    [row] = table_of(client, world.customer, "released")
    assert row["Caretaker"] == "Agentur GmbH" and row["Until"] == "30 Jun 2030" and "Customer" not in row

    client.force_login(world.agency_owner)
    [row] = table_of(client, world.agency, "outgoing")
    assert row["Customer"] == "shown once accepted" and "Caretaker" not in row  # not revealed before acceptance
    [row] = table_of(client, world.agency, "managed")
    assert row["Customer"] == "Kunde AG" and row["Until"] == "30 Jun 2030" and "Caretaker" not in row

    services.delegation_revoke(
        delegation=managed, context=df.context(world.agency_owner, world.agency), actor=world.agency_owner
    )
    for user, org in ((world.agency_owner, world.agency), (world.customer_admin, world.customer)):
        client.force_login(user)
        [row] = table_of(client, org, "ended")
        assert (row["Customer"], row["Caretaker"], row["Status"]) == ("Kunde AG", "Agentur GmbH", "Revoked")


def _actions(client, org) -> tuple[str, list[str]]:
    html = client.get(reverse("delegation-list", kwargs={"org": org.public_id})).content.decode()
    links = [name for name in ("delegation-request-link", "delegation-release-link") if name in html]
    primary = [
        name for name in links if f'btn-primary" href="{reverse(name[:-5], kwargs={"org": org.public_id})}"' in html
    ]
    return (primary[0] if primary else "", links)


def test_issue16_an_agency_requests_care_and_a_customer_releases(world, client):
    client.force_login(world.customer_admin)  # a customer: projects of its own, no care taken
    assert _actions(client, world.customer) == ("delegation-release-link", ["delegation-release-link"])
    page = client.get(reverse("delegation-list", kwargs={"org": world.customer.public_id})).content.decode()
    assert "Release a project to a caretaker" in page and "Request care for a project" not in page
    assert "Request a project as caretaker" not in page

    client.force_login(world.agency_owner)  # a new agency: no projects, no care yet
    assert _actions(client, world.agency) == ("delegation-request-link", ["delegation-request-link"])
    df.active(world.delegated_project, world.agency)
    assert _actions(client, world.agency) == ("delegation-request-link", ["delegation-request-link"])
    page = client.get(reverse("delegation-list", kwargs={"org": world.agency.public_id})).content.decode()
    assert "Request care for a project" in page and "Release projects" not in page

    client.force_login(world.agency_member)  # no "delegations.manage": no overview at all
    assert client.get(reverse("delegation-list", kwargs={"org": world.agency.public_id})).status_code == 403


def test_issue16_caretaker_ordering_paid_services_is_told_to_ask_the_customer(world, client, api_client):
    df.active(world.delegated_project, world.agency)
    number = world.delegated_project.number
    client.force_login(world.agency_owner)  # reads English
    response = client.get(reverse("project-services", kwargs={"number": number}))
    assert response.status_code == 403
    assert "Only Kunde AG can order this: ask them to order it." in response.content.decode()
    client.force_login(world.agency_admin)  # reads German
    response = client.get(reverse("project-services", kwargs={"number": number}))
    assert "Nur Kunde AG kann das bestellen: Bitten Sie dort um die Bestellung." in response.content.decode()

    api_client.force_authenticate(world.agency_owner)
    response = api_client.post(
        f"/api/v1/projects/{number}/services/",
        {"product": "x", "quantity": 1, "confirm_obligation_to_pay": True},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "caretaker_cannot_order"
    assert error["message"] == "Only Kunde AG can order this: ask them to order it."
    # the customer's own project Admin-less members still get the plain refusal
    client.force_login(world.customer_member)
    assert client.get(reverse("project-services", kwargs={"number": number})).status_code == 404


def test_issue16_notifications_show_the_inclusive_end_date_in_the_readers_format(world):
    delegation = df.active(world.delegated_project, world.agency, ends_at=end_of_day(date(2030, 6, 30)))
    with time_machine.travel(end_of_day(date(2030, 6, 25)), tick=False):
        assert services.delegation_process_expiries()["warned"] == 1
    notifications = Notification.objects.filter(kind="delegations.expiring")
    assert {n.params["ends_on"] for n in notifications} == {"2030-06-30"}  # the day, not 1 July 00:00
    notification = notifications.first()
    with translation.override("en"):
        assert notification.text.endswith("ends on 30 Jun 2030.")
    with translation.override("de"):
        assert notification.text.endswith("endet am 30. Juni 2030.")
    assert delegation.number in notification.text


def test_issue16_the_caretaker_administers_the_project_and_sees_its_scope(world, client):
    df.active(world.delegated_project, world.agency, ends_at=end_of_day(date(2030, 6, 30)))
    number = world.delegated_project.number
    client.force_login(world.agency_owner)
    detail = client.get(reverse("project-detail", kwargs={"number": number})).content.decode()
    assert ">Administer</a>" in detail
    assert "You take care of this project for Kunde AG" in detail and "Your access ends on 30 Jun 2030." in detail
    assert "Members, paid services, deletion and billing stay with Kunde AG: ask them for these." in detail
    form = client.get(reverse("project-update", kwargs={"number": number})).content.decode()
    assert "What you administer as caretaker" in form and "Your access ends on 30 Jun 2030." in form
    response = client.post(
        reverse("project-update", kwargs={"number": number}), {"name": "Kundenportal 2", "description": "Neu"}
    )
    assert response.status_code == 302
    world.delegated_project.refresh_from_db()
    assert world.delegated_project.name == "Kundenportal 2"
    # the customer's own admin sees the plain page
    client.force_login(world.customer_admin)
    detail = client.get(reverse("project-detail", kwargs={"number": number})).content.decode()
    assert ">Edit</a>" in detail and "What you administer" not in detail
