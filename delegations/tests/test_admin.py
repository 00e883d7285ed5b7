"""DLG-7: support sees every delegation in the admin and ends one only through the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delegations.models import Delegation
from delegations.support import SUPPORT_PERMISSIONS
from delegations.tests import factories as df
from organizations.models import AuditEvent
from projects.models import ProjectRoleGrant
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/delegations/delegation/"


@pytest.fixture
def support(db):
    group, _ = Group.objects.get_or_create(name="Support")
    for label in SUPPORT_PERMISSIONS:
        app_label, codename = label.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user = factories.UserFactory(is_staff=True)
    user.groups.add(group)
    return user


def test_support_permissions_exist():
    for label in SUPPORT_PERMISSIONS:
        app_label, codename = label.split(".")
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()


def test_support_lists_searches_and_filters(world, client, support):
    active = df.active(world.project, world.agency)
    other = factories.project(world.customer, "Other")
    pending = df.request(other, world.agency)
    client.force_login(support)
    page = client.get(CHANGELIST).content.decode()
    assert world.project.number in page and other.number in page
    found = client.get(CHANGELIST, {"q": world.project.number}).content.decode()
    assert f"/admin/delegations/delegation/{active.pk}/change/" in found
    assert f"/admin/delegations/delegation/{pending.pk}/change/" not in found
    by_org = client.get(CHANGELIST, {"q": world.agency.public_id}).content.decode()
    assert str(active.project.number) in by_org and other.number in by_org
    filtered = client.get(CHANGELIST, {"current_status": "pending"}).content.decode()
    assert other.number in filtered and f"{active.pk}/change/" not in filtered


def test_expired_by_time_shows_as_expired(world, client, support):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        delegation = df.active(world.project, world.agency, ends_at=timezone.now() + timedelta(hours=1))
        clock.shift(timedelta(hours=2))
        client.force_login(support)
        page = client.get(CHANGELIST, {"current_status": "expired"}).content.decode()
        assert f"{delegation.pk}/change/" in page


def test_detail_is_read_only(world, client, support):
    delegation = df.active(world.project, world.agency, via="release")
    client.force_login(support)
    url = f"/admin/delegations/delegation/{delegation.pk}/change/"
    page = client.get(url).content.decode()
    assert world.project.number in page
    assert 'name="status"' not in page and 'name="_save"' not in page
    assert delegation.token and delegation.token not in page  # the accept link is no support business
    client.post(url, {"status": "revoked"})
    assert Delegation.objects.get(pk=delegation.pk).status == "active"
    assert client.get("/admin/delegations/delegation/add/").status_code == 403
    assert client.get(f"/admin/delegations/delegation/{delegation.pk}/delete/").status_code == 403


def test_admin_action_ends_delegations_through_the_service(world, client, support):
    active = df.active(world.project, world.agency)
    pending = df.request(factories.project(world.customer, "Other"), world.agency)
    client.force_login(support)
    response = client.post(
        CHANGELIST, {"action": "end_selected", "_selected_action": [active.pk, pending.pk]}, follow=True
    )
    assert "2 delegations ended." in response.content.decode()
    assert Delegation.objects.get(pk=active.pk).status == "revoked"
    assert Delegation.objects.get(pk=pending.pk).status == "cancelled"
    assert not ProjectRoleGrant.objects.filter(project=world.project).exists()
    events = AuditEvent.objects.filter(actor=support, action__in=["delegation.revoked", "delegation.cancelled"])
    assert events.count() == 2 and {e.organization for e in events} == {world.customer}


def test_staff_without_the_permissions_see_nothing(world, client):
    client.force_login(factories.UserFactory(is_staff=True))
    assert client.get(CHANGELIST).status_code == 403


def test_changelist_query_count_does_not_grow(world, client, support):
    client.force_login(support)
    df.request(world.project, world.agency)
    with CaptureQueriesContext(connection) as small:
        client.get(CHANGELIST)
    for number in range(10):
        df.request(factories.project(world.customer, f"P{number}"), world.agency)
    with CaptureQueriesContext(connection) as large:
        client.get(CHANGELIST)
    assert len(large) == len(small)
