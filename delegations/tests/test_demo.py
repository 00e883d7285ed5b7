"""The demo data: Demo Agentur cares for Direkt GmbH's shop and asks for Demo Kunde AG's website."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delegations.models import Delegation
from portal.management.commands.seed_demo import seed_all
from projects.selectors import project_list_for_user

pytestmark = pytest.mark.django_db


def test_caretaker_lists_its_delegations_and_finds_the_delegated_project(api_client):
    demo = seed_all()
    caretaker, agency = demo["users"]["caretaker"], demo["orgs"]["agency"]
    shop, website = demo["projects"]["direct_shop"], demo["projects"]["customer_web"]

    api_client.force_authenticate(caretaker)
    listed = api_client.get(f"/api/v1/organizations/{agency.public_id}/delegations/").json()["results"]
    by_project = {row["project"]["number"]: row for row in listed}
    assert set(by_project) == {shop.number, website.number}
    active, pending = by_project[shop.number], by_project[website.number]
    assert (active["status"], active["side"], active["organization"]["name"]) == ("active", "caretaker", "Direkt GmbH")
    remaining = Delegation.objects.get(pk=active["id"]).ends_at - timezone.now()
    # through the 60th day, inclusive (an hour either way for a DST change in between)
    assert timedelta(days=60, hours=-1) < remaining <= timedelta(days=61, hours=1)
    # a request not accepted yet shows the caretaker no project name and no owner (issue 11, item 3)
    assert (pending["status"], pending["direction"], pending["organization"]) == ("pending", "request", None)
    assert pending["project"] == {"number": website.number, "name": None}

    projects = list(project_list_for_user(user=caretaker))
    assert shop in projects and website not in projects
    assert demo["projects"]["agency_site"] in projects


def test_the_customer_sees_the_open_request(client):
    demo = seed_all()
    client.force_login(demo["users"]["customer"])
    page = client.get(f"/o/{demo['orgs']['customer'].public_id}/delegations/?tab=incoming").content.decode()
    assert demo["projects"]["customer_web"].number in page and "Demo Agentur" in page


def test_seeding_twice_adds_nothing():
    seed_all()
    before = list(Delegation.objects.values_list("pk", "status"))
    seed_all()
    assert list(Delegation.objects.values_list("pk", "status")) == before
    assert len(before) == 2


def test_scale_data_adds_delegations_and_the_active_ones_grants():
    from django.core.management import call_command

    from projects.models import ProjectRoleGrant

    arguments = ["--customers", "5", "--projects", "40", "--users", "3", "--grants", "10", "--force"]
    call_command("seed_scale", *arguments)
    call_command("seed_scale", *arguments)
    assert Delegation.objects.filter(caretaker__name="Scale Agentur GmbH").count() == 12
    assert Delegation.objects.filter(status="pending").count() == 4
    # The four active delegations hold the agency's External grant; the users' grants are 10.
    assert ProjectRoleGrant.objects.filter(organization__name="Scale Agentur GmbH", role="external").count() == 4
    assert ProjectRoleGrant.objects.filter(user__isnull=False).count() == 10
