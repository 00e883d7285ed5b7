"""Demo data of the organizations app: who lists which orgs, the Support group, an open request."""

import pytest
from django.urls import reverse

from organizations.models import CustomerRelation, Organization, User
from portal.management.commands.seed_demo import seed_all

pytestmark = pytest.mark.django_db


def _listed(api_client, email):
    api_client.force_login(User.objects.get(email=email))
    return sorted(row["name"] for row in api_client.get(reverse("organization-api-list")).json()["results"])


def test_who_lists_which_orgs(api_client, client):
    seed_all()
    assert _listed(api_client, "partner@demo.example") == ["Demo Kunde AG", "Demo Partner GmbH", "Muster Handel GmbH"]
    assert _listed(api_client, "customer@demo.example") == ["Demo Kunde AG"]
    assert _listed(api_client, "guest@demo.example") == ["Demo Kunde AG"]
    partner = Organization.objects.get(name="Demo Partner GmbH")
    client.force_login(User.objects.get(email="partner@demo.example"))
    customers = client.get(reverse("customer-list", kwargs={"org": partner.public_id})).context["customers"]
    assert [c["name"] for c in customers] == ["Demo Kunde AG", "Muster Handel GmbH"]
    requests = client.get(reverse("open-requests", kwargs={"org": partner.public_id})).content.decode()
    assert "Neukunde KG" in requests


def test_demo_is_idempotent_and_support_is_in_the_group():
    seed_all()
    counts = (Organization.objects.count(), CustomerRelation.objects.count())
    seed_all()
    assert counts == (Organization.objects.count(), CustomerRelation.objects.count())
    support = User.objects.get(email="support@demo.example")
    assert support.groups.get(name="Support").permissions.filter(codename="view_auditevent").exists()
