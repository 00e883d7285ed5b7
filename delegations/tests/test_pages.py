"""Browser pages: the overview (DLG-3), the request and release forms, the detail page with its
actions, and the release link (DLG-2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegations.models import Delegation
from delegations.tests import factories as df
from portal.models import OutboxMessage
from portal.outbox import outbox_process_message
from projects.models import Project
from projects.roles import ProjectAction
from projects.selectors import project_user_may
from tests import factories

pytestmark = pytest.mark.django_db


def overview(org, tab=None):
    url = reverse("delegation-list", kwargs={"org": org.public_id})
    return f"{url}?tab={tab}" if tab else url


def detail(org, delegation, action=None):
    name = f"delegation-{action}" if action else "delegation-detail"
    return reverse(name, kwargs={"org": org.public_id, "delegation_id": delegation.pk})


def test_overview_shows_each_side_its_tabs(world, client):
    request = df.request(world.project, world.agency)
    managed = df.active(factories.project(world.customer, "Shop 2"), world.agency, ends_at=None)
    client.force_login(world.customer_admin)
    page = client.get(overview(world.customer)).content.decode()
    assert 'aria-current="page">Incoming requests <span class="badge">1</span>' in page
    assert world.project.number in page and "Agentur GmbH" in page
    page = client.get(overview(world.customer, "released")).content.decode()
    assert managed.project.number in page and "until revoked" in page and world.project.number not in page

    client.force_login(world.agency_owner)
    assert world.project.number in client.get(overview(world.agency, "outgoing")).content.decode()
    managed_page = client.get(overview(world.agency, "managed")).content.decode()
    assert managed.project.number in managed_page and "Kunde AG" in managed_page
    assert request.project.number not in managed_page
    # the nav link of the app
    assert f'href="{overview(world.agency)}"' in managed_page


def test_overview_in_german(world, client):
    df.request(world.project, world.agency)
    client.force_login(world.customer_owner)  # reads German
    page = client.get(overview(world.customer)).content.decode()
    assert "Technische Betreuer" in page and "Eingehende Anfragen" in page and "Offen" in page


def test_members_get_no_overview_and_no_nav_link(world, client):
    client.force_login(world.customer_member)
    assert client.get(overview(world.customer)).status_code == 403
    dashboard = client.get(reverse("organization-dashboard", kwargs={"org": world.customer.public_id})).content.decode()
    assert overview(world.customer) not in dashboard


def test_overview_query_count_does_not_grow_and_pages_keep_the_tab(world, client):
    client.force_login(world.customer_owner)
    df.request(world.project, world.agency)
    with CaptureQueriesContext(connection) as small:
        assert client.get(overview(world.customer, "incoming")).status_code == 200
    for number in range(30):
        caretaker = factories.OrganizationFactory()
        factories.member(caretaker)
        df.request(factories.project(world.customer, f"P{number}"), caretaker)
    with CaptureQueriesContext(connection) as large:
        page = client.get(overview(world.customer, "incoming")).content.decode()
    assert len(large) == len(small)
    assert "?tab=incoming&amp;page=2" in page
    assert client.get(overview(world.customer, "incoming") + "&page=2").status_code == 200


def test_request_form(world, client):
    client.force_login(world.agency_owner)
    url = reverse("delegation-request", kwargs={"org": world.agency.public_id})
    assert client.get(url).status_code == 200
    response = client.post(url, {"project_number": "424242"})
    assert response.status_code == 200
    assert "Enter a project number like p-10042." in response.content.decode()
    response = client.post(url, {"project_number": world.project.number, "message": "Hallo"})
    assert response.status_code == 302 and response["Location"] == overview(world.agency, "outgoing")
    assert Delegation.objects.get().message == "Hallo"
    response = client.post(url, {"project_number": world.project.number})
    assert "already is an open request" in response.content.decode()


def test_release_form(world, client):
    second = factories.project(world.customer, "CRM")
    factories.project(world.agency, "Not ours")
    client.force_login(world.customer_admin)
    url = reverse("delegation-release", kwargs={"org": world.customer.public_id})
    page = client.get(url).content.decode()
    assert world.project.number in page and second.number in page and "Not ours" not in page
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = client.post(
        url, {"projects": [world.project.number], "email": "care@agency.example", "ends_at": yesterday}
    )
    assert response.status_code == 200
    assert "The end of access must be in the future." in response.content.decode()
    response = client.post(url, {"email": "care@agency.example"})
    assert "Choose at least one project." in response.content.decode()
    response = client.post(
        url,
        {
            "projects": [world.project.number, second.number],
            "email": "care@agency.example",
            "ends_at": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302 and response["Location"] == overview(world.customer, "released")
    released = list(Delegation.objects.order_by("id"))
    # "until" a day includes it: access ends at the following local midnight
    ends_at = timezone.localtime(released[0].ends_at)
    assert len(released) == 2 and (ends_at.date(), ends_at.hour) == (date.today() + timedelta(days=31), 0)
    page = client.get(overview(world.customer, "released")).content.decode()
    assert "care@agency.example" in page and "Pending" in page


def test_the_release_form_offers_the_orgs_own_active_projects_only(world, client):
    """The agency's own projects, by name; not a project it cares for in the customer org, not an
    archived one (the choices come from the restriction in the org's context)."""
    df.active(world.project, world.agency)
    tools = factories.project(world.agency, "Agency Tools")
    archive = factories.project(world.agency, "Agency Archive")
    Project.objects.filter(pk=archive.pk).update(status=Project.Status.ARCHIVED)
    client.force_login(world.agency_owner)
    page = client.get(reverse("delegation-release", kwargs={"org": world.agency.public_id})).content.decode()
    assert f'value="{tools.number}"' in page
    assert f'value="{world.project.number}"' not in page and f'value="{archive.number}"' not in page


def test_detail_page_and_actions(world, client):
    delegation = df.request(world.project, world.agency, message="Bitte annehmen")
    client.force_login(world.customer_owner)
    page = client.get(detail(world.customer, delegation)).content.decode()
    assert "Bitte annehmen" in page
    assert (
        detail(world.customer, delegation, "accept") in page and detail(world.customer, delegation, "decline") in page
    )
    assert detail(world.customer, delegation, "cancel") not in page  # only the side that started it withdraws

    response = client.post(detail(world.customer, delegation, "cancel"), follow=True)  # refused: a message, not a 500
    assert response.redirect_chain == [(detail(world.customer, delegation), 302)]
    assert "Nur die Seite, die sie begonnen hat" in response.content.decode()  # the owner reads German

    response = client.post(detail(world.customer, delegation, "accept"), {"ends_at": ""})
    assert response.status_code == 302 and response["Location"] == detail(world.customer, delegation)
    assert Delegation.objects.get(pk=delegation.pk).status == "active"
    page = client.get(detail(world.customer, delegation)).content.decode()
    assert (
        detail(world.customer, delegation, "revoke") in page
        and detail(world.customer, delegation, "accept") not in page
    )

    client.force_login(world.agency_admin)
    response = client.post(detail(world.agency, delegation, "revoke"))
    assert response.status_code == 302
    assert Delegation.objects.get(pk=delegation.pk).status == "revoked"
    assert not project_user_may(user=world.agency_member, project=world.project, action=ProjectAction.VIEW)


def test_caretaker_withdraws_on_the_detail_page(world, client):
    delegation = df.request(world.project, world.agency)
    client.force_login(world.agency_owner)
    page = client.get(detail(world.agency, delegation)).content.decode()
    assert detail(world.agency, delegation, "cancel") in page and detail(world.agency, delegation, "accept") not in page
    client.post(detail(world.agency, delegation, "cancel"))
    assert Delegation.objects.get(pk=delegation.pk).status == "cancelled"


def test_detail_of_another_orgs_delegation_is_404(world, client):
    delegation = df.request(world.project, world.agency)
    stranger_org = factories.OrganizationFactory()
    client.force_login(factories.member(stranger_org))
    assert client.get(detail(stranger_org, delegation)).status_code == 404
    assert client.post(detail(stranger_org, delegation, "revoke")).status_code == 404
    assert Delegation.objects.get(pk=delegation.pk).status == "pending"


def test_release_link_flow(world, client):
    released = df.release(world.project, world.agency_admin.email, message="Für euch")
    for message_id in OutboxMessage.objects.values_list("pk", flat=True):
        outbox_process_message(message_id=message_id)
    link = next(line for line in mail.outbox[0].body.splitlines() if "/delegations/accept/" in line)
    path = link[link.index("/delegations/accept/") :].strip()
    assert path == reverse("delegation-release-accept", kwargs={"token": released[0].token})

    # anonymous: to the login page, nothing shown
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    # somebody else: a 404 that names nothing
    client.force_login(world.agency_owner)
    response = client.get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert world.project.number not in body and "Kunde AG" not in body and "Für euch" not in body

    client.force_login(world.agency_admin)
    page = client.get(path).content.decode()
    assert world.project.number in page and "Kunde AG" in page and "Für euch" in page
    assert world.agency.public_id in page  # the org choice
    response = client.post(path, {"decision": "accept", "organization": world.agency.public_id})
    assert response.status_code == 302 and response["Location"] == overview(world.agency, "managed")
    assert Delegation.objects.get(pk=released[0].pk).caretaker == world.agency
    assert "Diese Freigabe ist nicht mehr offen." in client.get(path).content.decode()  # German reader
    assert client.post(path, {"decision": "accept", "organization": world.agency.public_id}).status_code == 409


def test_release_link_decline_and_org_choice_errors(world, client):
    released = df.release(world.project, world.agency_admin.email)
    path = reverse("delegation-release-accept", kwargs={"token": released[0].token})
    client.force_login(world.agency_admin)
    response = client.post(path, {"decision": "accept", "organization": "ORG-XXXX-XXXX"})
    assert response.status_code == 400
    response = client.post(path, {"decision": "decline"})
    assert response.status_code == 302
    assert Delegation.objects.get(pk=released[0].pk).status == "declined"


def test_release_link_for_someone_without_an_org_to_choose(world, client):
    outsider = factories.UserFactory()
    released = df.release(world.project, outsider.email)
    client.force_login(outsider)
    page = client.get(reverse("delegation-release-accept", kwargs={"token": released[0].token})).content.decode()
    assert "you must be Owner or Admin of an organization" in page


def test_open_requests_section_for_the_shared_page(world, rf):
    from django.template.loader import render_to_string

    from delegations.selectors import delegation_open_requests_section, delegation_requests_awaiting

    incoming = df.request(world.project, world.agency, message="Wir kümmern uns")
    context = df.context(world.customer_admin, world.customer)
    assert delegation_requests_awaiting(context) == 1
    assert delegation_requests_awaiting(df.context(world.customer_member, world.customer)) == 0
    section = delegation_open_requests_section(context)
    assert section["incoming"] == [incoming] and section["outgoing"] == []
    request = rf.get("/o/x/requests/")
    html = render_to_string(
        "delegations/_open_requests.html", {"section": section, "org_context": context, "request": request}
    )
    assert "Agentur GmbH" in html and "Wir kümmern uns" in html
    assert detail(world.customer, incoming, "accept") in html and 'name="next" value="/o/x/requests/"' in html
    agency_section = delegation_open_requests_section(df.context(world.agency_owner, world.agency))
    assert agency_section["incoming"] == [] and agency_section["outgoing"] == [incoming]


def test_action_returns_to_a_local_next_page_only(world, client):
    delegation = df.request(world.project, world.agency)
    client.force_login(world.customer_owner)
    response = client.post(detail(world.customer, delegation, "decline"), {"next": "https://evil.example/"})
    assert response["Location"] == detail(world.customer, delegation)
    other = df.request(factories.project(world.customer, "Z"), world.agency)
    response = client.post(detail(world.customer, other, "decline"), {"next": "/o/x/requests/"})
    assert response["Location"] == "/o/x/requests/"
