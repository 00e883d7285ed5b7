"""Issue 14.2: a write that loses a race with a delete answers 404 or 409, never 500 (PostgreSQL).

To make the race certain rather than likely, the delete runs in a transaction that stays open
until the other request has read the row and is waiting on the row lock: when the delete commits,
that request's write finds nothing (`Save with update_fields did not affect any rows`, a vanished
foreign key at commit). Each request has its own connection (tests/races.py).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from organizations.roles import OrgRole
from projects import services
from projects.models import Project
from tests import factories
from tests.races import run_together

ANSWERS_TO_A_LOST_RACE = {404, 409}


@pytest.fixture
def project_world(transactional_db):
    partner = factories.PartnerFactory()
    owner = factories.member(partner, OrgRole.OWNER)
    project = factories.project(partner, name="Racing")
    return owner, project


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _delete_and_hold(project, owner, deleted: threading.Event):
    def delete():
        with transaction.atomic():
            services.project_delete(project=project, actor=owner)
            deleted.set()
            time.sleep(1.5)  # the other request reads the row meanwhile and then waits on its lock
        return "deleted"

    return delete


def test_14_2_an_update_racing_a_delete_answers_404(project_world):
    owner, project = project_world
    deleted = threading.Event()

    def update():
        deleted.wait(10)
        return _client(owner).patch(f"/api/v1/projects/{project.number}/", {"name": "Renamed"}, format="json")

    results = run_together(_delete_and_hold(project, owner, deleted), update)
    assert results[0] == ("ok", "deleted"), results
    kind, response = results[1]
    assert kind == "ok", f"the update raised instead of answering: {response!r}"
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"
    assert not Project.objects.filter(pk=project.pk).exists()


def test_14_2_a_grant_racing_the_project_delete_answers_404_or_409(project_world):
    owner, project = project_world
    deleted = threading.Event()

    def grant():
        deleted.wait(10)
        return _client(owner).post(
            f"/api/v1/projects/{project.number}/grants/", {"email": "late@example.com", "role": "viewer"}, format="json"
        )

    results = run_together(_delete_and_hold(project, owner, deleted), grant)
    assert results[0] == ("ok", "deleted"), results
    kind, response = results[1]
    assert kind == "ok", f"the grant raised instead of answering: {response!r}"
    assert response.status_code in ANSWERS_TO_A_LOST_RACE, response.content
    assert not Project.objects.filter(pk=project.pk).exists()
