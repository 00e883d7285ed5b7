"""ORG-9 for ORG-5: support staff find invitations and resend or withdraw them in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations.models import AuditEvent, Invitation
from organizations.roles import OrgRole
from organizations.support import support_group_sync
from tests import factories

from ..services.invitations import invitation_create
from .conftest import send_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(db):
    user = factories.UserFactory(is_staff=True)
    user.groups.add(support_group_sync())
    return user


def test_support_searches_and_resends_an_invitation(support, client):
    organization = factories.OrganizationFactory(name="Admin Kunde")
    invitation = invitation_create(organization=organization, email="lost@example.com", role=OrgRole.OWNER, actor=None)
    send_outbox()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1), sent_at=timezone.now() - timedelta(days=8)
    )
    client.force_login(support)
    changelist = reverse("admin:organizations_invitation_changelist")
    page = client.get(changelist, {"q": "lost@"})
    assert page.status_code == 200 and "lost@example.com" in page.content.decode()
    assert (
        "token_hash"
        not in client.get(reverse("admin:organizations_invitation_change", args=[invitation.pk])).content.decode()
    )
    response = client.post(changelist, {"action": "resend", "_selected_action": [invitation.pk]}, follow=True)
    assert "1 invitations sent again." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING and invitation.send_count == 2
    assert AuditEvent.objects.filter(action="invitation.resent", actor=support).exists()
    assert [m.to for m in send_outbox()] == [["lost@example.com"]]
    response = client.post(changelist, {"action": "revoke", "_selected_action": [invitation.pk]}, follow=True)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    # a refused one is a message, not an error page
    response = client.post(changelist, {"action": "revoke", "_selected_action": [invitation.pk]}, follow=True)
    assert response.status_code == 200 and "cannot be done now" in response.content.decode()


def test_support_cannot_add_or_delete_invitations(support, client):
    client.force_login(support)
    assert client.get(reverse("admin:organizations_invitation_add")).status_code == 403
