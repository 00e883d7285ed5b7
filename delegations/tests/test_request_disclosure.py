"""Issue 11, item 3: "Delegation requests reveal foreign projects."

A request answers the same for an existing and a missing project number; the requester sees only
the number it typed until the project's org accepts; only a request for an existing project of an
org that did not block the requester notifies anybody; requests are rate limited per requesting
org (in the database); the project's org can block a requester.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from delegations import services
from delegations.models import Delegation, DelegationRequesterBlock
from delegations.tests import factories as df
from portal.models import Notification, OutboxMessage
from tests import factories

pytestmark = pytest.mark.django_db

MISSING = "p-99999999"


def api_url(org, *parts) -> str:
    base = f"/api/v1/organizations/{org.public_id}/delegations/"
    return base + "".join(f"{part}/" for part in parts)


def post_request(api_client, world, number, **extra):
    return api_client.post(
        api_url(world.agency), {"direction": "request", "project_number": number, **extra}, format="json"
    )


ISO_MOMENT = re.compile(r'"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)"')


def _normalized(content: bytes, *, delegation_id: int, number: str) -> str:
    """The body with what legitimately differs (id, moments, the typed number) blanked out."""
    text = content.decode()
    text = text.replace(f'"id":{delegation_id},', '"id":ID,').replace(f'"{number}"', '"NUMBER"')
    return ISO_MOMENT.sub('"MOMENT"', text)


def _secrets(world) -> list[str]:
    return [world.project.name, world.customer.name, world.customer.public_id]


def test_item_3_existing_and_missing_numbers_answer_byte_identically(world, api_client):
    api_client.force_authenticate(world.agency_admin)
    existing = post_request(api_client, world, world.project.number, message="Hallo")
    missing = post_request(api_client, world, MISSING, message="Hallo")
    assert existing.status_code == missing.status_code == 201
    assert existing["Content-Type"] == missing["Content-Type"]
    [a], [b] = existing.json(), missing.json()
    assert _normalized(existing.content, delegation_id=a["id"], number=world.project.number) == _normalized(
        missing.content, delegation_id=b["id"], number=MISSING
    )
    for response in (existing, missing):
        for secret in _secrets(world):
            assert secret not in response.content.decode()
    # and so do the list and the detail afterwards
    for row in (a, b):
        detail = api_client.get(api_url(world.agency, row["id"]))
        assert detail.status_code == 200
        assert (detail.json()["project"]["name"], detail.json()["organization"], detail.json()["status"]) == (
            None,
            None,
            "pending",
        )
    listed = api_client.get(api_url(world.agency), {"side": "caretaker", "status": "pending"}).json()["results"]
    assert {row["project"]["number"] for row in listed} == {world.project.number, MISSING}
    assert not any(secret in str(listed) for secret in _secrets(world))


def test_item_3_filters_and_search_do_not_tell_whether_a_project_exists(world, api_client):
    api_client.force_authenticate(world.agency_admin)
    post_request(api_client, world, world.project.number)
    post_request(api_client, world, MISSING)
    for number in (world.project.number, MISSING):
        found = api_client.get(api_url(world.agency), {"project": number.upper()}).json()["results"]
        assert [row["project"]["number"] for row in found] == [number]
    assert api_client.get(api_url(world.agency), {"search": world.project.name}).json()["results"] == []
    # the project's org still finds its own project by name
    api_client.force_authenticate(world.customer_owner)
    assert len(api_client.get(api_url(world.customer), {"search": world.project.name}).json()["results"]) == 1


def test_item_3_duplicates_are_refused_alike(world, api_client):
    api_client.force_authenticate(world.agency_admin)
    for number in (world.project.number, MISSING):
        post_request(api_client, world, number)
        again = post_request(api_client, world, number.upper())
        assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate"


def test_item_3_browser_answers_alike_and_shows_only_the_number(world, client):
    client.force_login(world.agency_owner)
    url = reverse("delegation-request", kwargs={"org": world.agency.public_id})
    answers = [client.post(url, {"project_number": number}, follow=True) for number in (world.project.number, MISSING)]
    assert [a.redirect_chain for a in answers][0] == [a.redirect_chain for a in answers][1]
    messages = [[str(m) for m in a.context["messages"]] for a in answers]
    assert (
        messages[0]
        == messages[1]
        == ["Your request was recorded. If a project with this number exists, its organization decides on it."]
    )
    for answer, number in zip(answers, (world.project.number, MISSING), strict=True):
        html = answer.content.decode()
        assert number in html
        assert not any(secret in html for secret in _secrets(world))
    assert world.project.number in answers[1].content.decode()  # both listed alike
    for delegation in Delegation.objects.all():
        html = client.get(
            reverse("delegation-detail", kwargs={"org": world.agency.public_id, "delegation_id": delegation.pk})
        ).content.decode()
        assert not any(secret in html for secret in _secrets(world))
    html = client.get(reverse("open-requests", kwargs={"org": world.agency.public_id})).content.decode()
    assert MISSING in html and not any(secret in html for secret in _secrets(world))


def test_item_3_the_name_reaches_the_requester_once_accepted_and_not_on_decline(
    world, client, django_capture_on_commit_callbacks
):
    accepted = df.request(world.project, world.agency, actor=world.agency_admin)
    declined = df.request(factories.project(world.customer, "Geheimprojekt"), world.agency, actor=world.agency_admin)
    owner_context = df.context(world.customer_owner, world.customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.delegation_decline(delegation=declined, context=owner_context, actor=world.customer_owner)
    told = Notification.objects.filter(recipient=world.agency_admin, kind="delegations.declined").get()
    assert "Geheimprojekt" not in str(told.params) and world.customer.name not in str(told.params)
    emails = list(OutboxMessage.objects.filter(payload__to=world.agency_admin.email))
    assert emails and not any(
        "Geheimprojekt" in str(e.payload) or world.customer.name in str(e.payload) for e in emails
    )
    services.delegation_accept(delegation=accepted, context=owner_context, actor=world.customer_owner)
    client.force_login(world.agency_owner)
    html = client.get(
        reverse("delegation-detail", kwargs={"org": world.agency.public_id, "delegation_id": accepted.pk})
    ).content.decode()
    assert world.project.name in html and world.customer.name in html
    html = client.get(
        reverse("delegation-detail", kwargs={"org": world.agency.public_id, "delegation_id": declined.pk})
    ).content.decode()
    assert "Geheimprojekt" not in html and world.customer.name not in html


def test_item_3_only_an_existing_unblocked_project_notifies(world, django_capture_on_commit_callbacks):
    ctx = df.context(world.agency_admin, world.agency)
    with django_capture_on_commit_callbacks(execute=True):
        missing = services.delegation_request(context=ctx, project_number=MISSING, actor=world.agency_admin)
    assert (missing.project, missing.dropped) == (None, "unknown_project")
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()

    blocked_project = factories.project(world.customer, "Blocked")
    DelegationRequesterBlock.objects.create(organization=world.customer, blocked_organization=world.agency)
    with django_capture_on_commit_callbacks(execute=True):
        blocked = services.delegation_request(
            context=ctx, project_number=blocked_project.number, actor=world.agency_admin
        )
    assert (blocked.status, blocked.project, blocked.organization, blocked.dropped) == (
        "pending",
        None,
        None,
        "blocked",
    )
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()

    DelegationRequesterBlock.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        real = services.delegation_request(context=ctx, project_number=world.project.number, actor=world.agency_admin)
    assert real.project == world.project
    assert set(Notification.objects.filter(kind="delegations.requested").values_list("recipient", flat=True)) == {
        world.customer_owner.pk,
        world.customer_admin.pk,
    }


def test_item_3_dropped_requests_expire_like_unanswered_ones(world):
    ctx = df.context(world.agency_admin, world.agency)
    with time_machine.travel(timezone.now() - timedelta(days=31), tick=False):
        real = services.delegation_request(context=ctx, project_number=world.project.number, actor=world.agency_admin)
        dropped = services.delegation_request(context=ctx, project_number=MISSING, actor=world.agency_admin)
    Notification.objects.all().delete()
    assert services.delegation_process_expiries()["expired"] == 2
    real.refresh_from_db(), dropped.refresh_from_db()
    assert real.status == dropped.status == "expired"
    texts = sorted(
        n.params["project"]
        for n in Notification.objects.filter(recipient=world.agency_admin, kind="delegations.expired")
    )
    assert texts == sorted([world.project.number, MISSING])  # the number only, for both


def test_item_3_requests_are_rate_limited_per_requesting_org(world, api_client, settings):
    settings.DELEGATION_REQUESTS_PER_HOUR = 3
    api_client.force_authenticate(world.agency_admin)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for number in (world.project.number, MISSING, "p-88888888"):
            assert post_request(api_client, world, number).status_code == 201
            clock.shift(timedelta(minutes=10))
        refused = post_request(api_client, world, "p-77777777")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert set(refused.json()["error"]) == {"code", "message", "details"}
        assert int(refused["Retry-After"]) == 30 * 60  # when the first of the three leaves the hour
        assert Delegation.objects.count() == 3
        # another requesting org has its own budget
        other = factories.OrganizationFactory()
        other_owner = factories.member(other, "owner")
        api_client.force_authenticate(other_owner)
        response = api_client.post(api_url(other), {"direction": "request", "project_number": MISSING}, format="json")
        assert response.status_code == 201
        # the browser form is limited alike
        from django.test import Client

        browser = Client()
        browser.force_login(world.agency_owner)
        page = browser.post(
            reverse("delegation-request", kwargs={"org": world.agency.public_id}), {"project_number": "p-1"}
        )
        assert page.status_code == 429 and int(page["Retry-After"]) == 30 * 60
        clock.shift(timedelta(minutes=31))
        api_client.force_authenticate(world.agency_admin)
        assert post_request(api_client, world, "p-77777777").status_code == 201


def test_item_3_the_project_org_blocks_and_unblocks_a_requester(world, api_client, django_capture_on_commit_callbacks):
    first = df.request(world.project, world.agency, actor=world.agency_admin)
    second = df.request(factories.project(world.customer, "Second"), world.agency, actor=world.agency_admin)
    api_client.force_authenticate(world.customer_owner)
    response = api_client.post(api_url(world.customer, first.pk, "block"), {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["blocked_organization"]["public_id"] == world.agency.public_id
    for delegation in (first, second):
        delegation.refresh_from_db()
        assert delegation.status == "declined"
    blocks = api_client.get(f"/api/v1/organizations/{world.customer.public_id}/delegation-blocks/").json()["results"]
    assert [b["blocked_organization"]["public_id"] for b in blocks] == [world.agency.public_id]

    # a later request looks like any other to the requester, but never reaches the customer
    Notification.objects.all().delete()
    third = factories.project(world.customer, "Third")
    api_client.force_authenticate(world.agency_admin)
    response = post_request(api_client, world, third.number)
    assert response.status_code == 201 and response.json()[0]["status"] == "pending"
    api_client.force_authenticate(world.customer_owner)
    incoming = api_client.get(api_url(world.customer), {"status": "pending"}).json()["results"]
    assert incoming == [] and not Notification.objects.exists()

    # unblock: the next request reaches the customer again
    response = api_client.delete(
        f"/api/v1/organizations/{world.customer.public_id}/delegation-blocks/{blocks[0]['id']}/"
    )
    assert response.status_code == 204
    fourth = factories.project(world.customer, "Fourth")
    df.request(fourth, world.agency, actor=world.agency_admin)
    incoming = api_client.get(api_url(world.customer), {"status": "pending"}).json()["results"]
    assert [row["project"]["number"] for row in incoming] == [fourth.number]


def test_item_3_block_and_unblock_in_the_browser(world, client):
    delegation = df.request(world.project, world.agency, actor=world.agency_admin)
    org = world.customer.public_id
    client.force_login(world.customer_owner)
    requests_page = client.get(reverse("open-requests", kwargs={"org": org})).content.decode()
    assert reverse("delegation-block", kwargs={"org": org, "delegation_id": delegation.pk}) in requests_page
    response = client.post(reverse("delegation-block", kwargs={"org": org, "delegation_id": delegation.pk}))
    assert response.status_code == 302
    block = DelegationRequesterBlock.objects.get(organization=world.customer, blocked_organization=world.agency)
    page = client.get(reverse("open-requests", kwargs={"org": org})).content.decode()
    assert (
        world.agency.name in page and reverse("delegation-unblock", kwargs={"org": org, "block_id": block.pk}) in page
    )
    response = client.post(reverse("delegation-unblock", kwargs={"org": org, "block_id": block.pk}))
    assert response.status_code == 302 and not DelegationRequesterBlock.objects.exists()
    # another org's block is not reachable
    foreign = DelegationRequesterBlock.objects.create(organization=world.agency, blocked_organization=world.customer)
    assert client.post(reverse("delegation-unblock", kwargs={"org": org, "block_id": foreign.pk})).status_code == 404
