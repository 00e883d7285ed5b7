"""PLT-6: the demo data is complete and idempotent; every demo account gets an API token."""

import pytest
from django.core.management import call_command

from organizations.models import CustomerRelation, Membership, Organization, User
from portal.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_all
from projects.selectors import project_list_for_user

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent():
    seed_all()
    counts = (
        User.objects.count(),
        Organization.objects.count(),
        Membership.objects.count(),
        CustomerRelation.objects.count(),
    )
    seed_all()
    assert counts == (
        User.objects.count(),
        Organization.objects.count(),
        Membership.objects.count(),
        CustomerRelation.objects.count(),
    )


def test_seed_demo_command_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(Exception, match="development only"):
        call_command("seed_demo")


def test_demo_accounts_and_roles():
    seed_all()
    roles = {
        (m.user.email, m.organization.name): m.role for m in Membership.objects.select_related("user", "organization")
    }
    assert roles[("partner@demo.example", "Demo Partner GmbH")] == "owner"
    assert roles[("customer@demo.example", "Demo Kunde AG")] == "owner"
    assert roles[("guest@demo.example", "Demo Kunde AG")] == "guest"
    assert roles[("caretaker@demo.example", "Demo Agentur")] == "owner"
    assert roles[("direct@demo.example", "Direkt GmbH")] == "owner"
    support = User.objects.get(email="support@demo.example")
    assert support.is_staff and not support.is_superuser
    assert support.groups.filter(name="Support").exists()
    relation = CustomerRelation.objects.get(status="active", customer__name="Demo Kunde AG")
    assert (relation.partner.name, relation.customer.name) == ("Demo Partner GmbH", "Demo Kunde AG")
    assert not CustomerRelation.objects.filter(customer__name="Direkt GmbH").exists()
    enduser = User.objects.get(email="enduser@demo.example")
    assert [p.name for p in project_list_for_user(user=enduser)] == ["Endkunden-Shop Müller"]


@pytest.mark.parametrize("email", [email for email, _ in DEMO_ACCOUNTS])
def test_every_demo_account_gets_a_token(api_client, email):
    seed_all()
    response = api_client.post("/api/v1/auth/token/", {"email": email, "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert len(response.json()["token"]) == 40
