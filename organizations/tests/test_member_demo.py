"""ORG-5 demo data: Demo Kunde AG has members in several roles and a pending invitation (idempotent)."""

import pytest
from django.urls import reverse

from organizations.models import Invitation, Organization, User
from portal.management.commands.seed_demo import seed_all

pytestmark = pytest.mark.django_db


def test_demo_kunde_has_a_pending_invitation_once():
    seed_all()
    seed_all()
    customer = Organization.objects.get(name="Demo Kunde AG")
    [invitation] = Invitation.objects.filter(organization=customer)
    assert invitation.current_status == Invitation.Status.PENDING
    assert invitation.email == "new.colleague@demo.example" and invitation.invited_by.email == "customer@demo.example"


def test_the_demo_screens_of_members_and_invitations(client):
    seed_all()
    customer = Organization.objects.get(name="Demo Kunde AG")
    client.force_login(User.objects.get(email="customer@demo.example"))
    members = client.get(reverse("member-list", kwargs={"org": customer.public_id}))
    assert {m.user.email for m in members.context["object_list"]} >= {"customer@demo.example", "guest@demo.example"}
    invitations = client.get(reverse("invitation-list", kwargs={"org": customer.public_id}))
    assert [i.email for i in invitations.context["object_list"]] == ["new.colleague@demo.example"]
    client.force_login(User.objects.get(email="guest@demo.example"))
    assert client.get(reverse("member-list", kwargs={"org": customer.public_id})).status_code == 200
    assert client.get(reverse("invitation-list", kwargs={"org": customer.public_id})).status_code == 403
