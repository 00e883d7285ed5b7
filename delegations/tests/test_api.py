"""The API: `/api/v1/organizations/{org}/delegations/` and `/api/v1/delegation-releases/{token}/`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delegations.models import Delegation
from delegations.tests import factories as df
from projects.roles import ProjectAction
from projects.selectors import project_user_may
from tests import factories

pytestmark = pytest.mark.django_db


def url(org, *parts):
    tail = "".join(f"{part}/" for part in parts)
    return f"/api/v1/organizations/{org.public_id}/delegations/{tail}"


def error_of(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    if code:
        assert error["code"] == code, error
    return error


def test_caretaker_requests_by_number_and_the_customer_accepts(world, api_client):
    api_client.force_authenticate(world.agency_admin)
    response = api_client.post(
        url(world.agency),
        {"direction": "request", "project_number": world.project.number, "message": "Hallo"},
        format="json",
    )
    assert response.status_code == 201, response.content
    [created] = response.json()
    # issue 11, item 3: the requester sees only the number it typed until the request is accepted
    assert created["project"] == {"number": world.project.number, "name": None}
    assert created["organization"] is None
    assert created["caretaker"] == {"public_id": world.agency.public_id, "name": "Agentur GmbH"}
    assert (created["status"], created["direction"], created["side"]) == ("pending", "request", "caretaker")

    api_client.force_authenticate(world.customer_owner)
    listed = api_client.get(url(world.customer), {"status": "pending", "side": "project"}).json()
    assert [d["id"] for d in listed["results"]] == [created["id"]]
    ends_at = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    response = api_client.post(
        url(world.customer, created["id"], "accept"), {"ends_at": ends_at.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "active" and body["side"] == "project"
    assert body["ends_at"].startswith(timezone.localtime(ends_at).isoformat()[:19])
    assert project_user_may(user=world.agency_member, project=world.project, action=ProjectAction.CHANGE)
    api_client.force_authenticate(world.agency_admin)  # accepted: now the caretaker sees name and owner
    seen = api_client.get(url(world.agency, created["id"])).json()
    assert seen["project"]["name"] == "Webshop" and seen["organization"]["name"] == "Kunde AG"


def test_request_errors_are_clear_4xx(world, api_client):
    api_client.force_authenticate(world.agency_owner)
    error = error_of(api_client.post(url(world.agency), {"direction": "request"}, format="json"), 400, "invalid")
    assert "project_number" in error["details"]
    error_of(api_client.post(url(world.agency), {"direction": "sideways"}, format="json"), 400, "invalid")
    error = error_of(
        api_client.post(url(world.agency), {"direction": "request", "project_number": "10042"}, format="json"), 400
    )
    assert error["details"] == {"project_number": ["Enter a project number like p-10042."]}
    api_client.force_authenticate(world.agency_admin)  # reads German
    error = error_of(
        api_client.post(url(world.agency), {"direction": "request", "project_number": "x-1"}, format="json"), 400
    )
    assert error["message"] == "Geben Sie eine Projektnummer wie p-10042 ein."
    api_client.force_authenticate(world.agency_owner)
    own = factories.project(world.agency, "Own")
    error = error_of(
        api_client.post(url(world.agency), {"direction": "request", "project_number": own.number}, format="json"), 400
    )
    assert error["details"] == {
        "project_number": [
            "This project belongs to your own organization: you administer it already, no delegation needed."
        ]
    }
    api_client.post(url(world.agency), {"direction": "request", "project_number": world.project.number}, format="json")
    error_of(
        api_client.post(
            url(world.agency), {"direction": "request", "project_number": world.project.number}, format="json"
        ),
        409,
        "duplicate",
    )


def test_release_by_api_and_acceptance_by_token(world, api_client):
    second = factories.project(world.customer, "CRM")
    api_client.force_authenticate(world.customer_admin)
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    error = error_of(
        api_client.post(
            url(world.customer),
            {
                "direction": "release",
                "projects": [world.project.number],
                "email": world.agency_owner.email,
                "ends_at": past,
            },
            format="json",
        ),
        400,
        "invalid",
    )
    assert error["details"] == {"ends_at": ["The end of access must be in the future."]}
    response = api_client.post(
        url(world.customer),
        {"direction": "release", "projects": [world.project.number, second.number], "email": world.agency_owner.email},
        format="json",
    )
    assert response.status_code == 201, response.content
    released = response.json()
    assert [d["project"]["number"] for d in released] == sorted([world.project.number, second.number])
    assert all(d["caretaker"] is None and d["invited_email"] == world.agency_owner.email for d in released)
    token = Delegation.objects.get(pk=released[0]["id"]).token

    # somebody else with the link sees nothing
    api_client.force_authenticate(world.agency_admin)
    error_of(api_client.get(f"/api/v1/delegation-releases/{token}/"), 404, "invalid_link")
    error_of(
        api_client.post(
            f"/api/v1/delegation-releases/{token}/accept/", {"organization": world.agency.public_id}, format="json"
        ),
        404,
    )

    api_client.force_authenticate(world.agency_owner)
    shown = api_client.get(f"/api/v1/delegation-releases/{token}/").json()
    assert shown["organization"]["name"] == "Kunde AG"
    assert [d["status"] for d in shown["delegations"]] == ["pending", "pending"]
    error_of(
        api_client.post(
            f"/api/v1/delegation-releases/{token}/accept/", {"organization": "ORG-NONE-XXXX"}, format="json"
        ),
        400,
    )
    response = api_client.post(
        f"/api/v1/delegation-releases/{token}/accept/", {"organization": world.agency.public_id}, format="json"
    )
    assert response.status_code == 200, response.content
    assert {d["status"] for d in response.json()} == {"active"}
    error_of(
        api_client.post(
            f"/api/v1/delegation-releases/{token}/accept/", {"organization": world.agency.public_id}, format="json"
        ),
        409,
    )
    # the caretaker's own list now shows the managed projects
    managed = api_client.get(url(world.agency), {"side": "caretaker", "status": "active"}).json()
    assert managed["count"] == 2


def test_release_declined_by_token(world, api_client):
    released = df.release(world.project, world.agency_owner.email)
    api_client.force_authenticate(world.agency_owner)
    response = api_client.post(f"/api/v1/delegation-releases/{released[0].token}/decline/")
    assert response.status_code == 200, response.content
    assert response.json()["delegations"][0]["status"] == "declined"


def test_actions_refused_answer_409(world, api_client):
    delegation = df.request(world.project, world.agency)
    api_client.force_authenticate(world.agency_owner)
    # the caretaker holds requests.decide in its own org, but a request is decided by the other side
    error_of(api_client.post(url(world.agency, delegation.pk, "accept")), 409, "wrong_side")
    api_client.force_authenticate(world.customer_owner)
    error_of(api_client.post(url(world.customer, delegation.pk, "cancel")), 409, "wrong_side")
    assert api_client.post(url(world.customer, delegation.pk, "decline")).json()["status"] == "declined"
    for name in ("accept", "decline", "cancel", "revoke"):
        error_of(api_client.post(url(world.customer, delegation.pk, name)), 409)


def test_either_side_revokes_by_api(world, api_client):
    delegation = df.active(world.project, world.agency)
    api_client.force_authenticate(world.agency_admin)
    response = api_client.post(url(world.agency, delegation.pk, "revoke"))
    assert response.json()["status"] == "revoked"
    assert not project_user_may(user=world.agency_member, project=world.project, action=ProjectAction.VIEW)


def test_members_may_not_manage_delegations(world, api_client):
    df.request(world.project, world.agency)
    api_client.force_authenticate(world.customer_member)
    error_of(api_client.get(url(world.customer)), 403)


def test_unrelated_orgs_see_none_of_it(world, api_client):
    delegation = df.active(world.project, world.agency)
    stranger_org = factories.OrganizationFactory()
    stranger = factories.member(stranger_org)
    api_client.force_authenticate(stranger)
    assert api_client.get(url(stranger_org)).json()["count"] == 0
    error_of(api_client.get(url(stranger_org, delegation.pk)), 404)
    error_of(api_client.post(url(stranger_org, delegation.pk, "revoke")), 404)
    error_of(api_client.get(url(world.customer, delegation.pk)), 404)
    error_of(api_client.get(url(world.agency)), 404)


def test_a_third_orgs_delegations_are_not_listed_by_either_side(world, api_client):
    third = factories.OrganizationFactory()
    other_caretaker = factories.OrganizationFactory()
    factories.member(other_caretaker)
    df.request(factories.project(third, "Theirs"), other_caretaker)
    mine = df.request(world.project, world.agency)
    api_client.force_authenticate(world.customer_owner)
    assert [d["id"] for d in api_client.get(url(world.customer)).json()["results"]] == [mine.pk]


def test_expired_reads_as_expired_in_the_api(world, api_client):
    import time_machine

    with time_machine.travel(timezone.now(), tick=False) as clock:
        delegation = df.active(world.project, world.agency, ends_at=timezone.now() + timedelta(days=1))
        clock.shift(timedelta(days=1))
        api_client.force_authenticate(world.agency_owner)
        assert api_client.get(url(world.agency, delegation.pk)).json()["status"] == "expired"
        assert api_client.get(url(world.agency), {"status": "expired"}).json()["count"] == 1
        assert api_client.get(url(world.agency), {"status": "active"}).json()["count"] == 0


def test_list_query_count_does_not_grow(world, api_client):
    api_client.force_authenticate(world.customer_owner)
    df.request(world.project, world.agency)
    with CaptureQueriesContext(connection) as small:
        assert api_client.get(url(world.customer)).status_code == 200
    for number in range(8):
        caretaker = factories.OrganizationFactory()
        factories.member(caretaker)
        df.request(factories.project(world.customer, f"P{number}"), caretaker)
    with CaptureQueriesContext(connection) as large:
        assert api_client.get(url(world.customer)).json()["count"] == 9
    assert len(large) == len(small)


def test_everything_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    base = "/api/v1/organizations/{org}/delegations/"
    assert set(paths[base]) >= {"get", "post"}
    for name in ("accept", "decline", "cancel", "revoke"):
        assert "post" in paths[f"{base}{{delegation_id}}/{name}/"]
    assert "get" in paths[f"{base}{{delegation_id}}/"]
    for tail in ("", "accept/", "decline/"):
        assert f"/api/v1/delegation-releases/{{token}}/{tail}" in paths


def test_the_schema_has_no_warnings_about_delegations():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    problems = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "elegation" in m]
    assert problems == []
