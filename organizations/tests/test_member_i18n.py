"""PLT-1 for ORG-5: a complete German catalogue; member pages, accept page and email in German."""

from pathlib import Path

import polib
import pytest
from django.urls import reverse

from organizations.roles import OrgRole

from ..services.invitations import invitation_create
from .conftest import link_token, send_outbox

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_every_string_of_the_organizations_app_is_translated():
    po = polib.pofile(str(CATALOGUE))
    assert [e.msgid for e in po if e.fuzzy] == []
    assert [e.msgid for e in po if not e.obsolete and not e.msgid_plural and not e.msgstr] == []
    assert [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())] == []


@pytest.mark.django_db
def test_member_pages_in_german(members_world, client):
    client.force_login(members_world.customer_owner)  # language "de"
    html = client.get(reverse("member-list", kwargs={"org": members_world.customer.public_id})).content.decode()
    assert "Mitglieder" in html and "Rolle ändern" in html and "Inhaber" in html
    html = client.get(reverse("invitation-create", kwargs={"org": members_world.customer.public_id})).content.decode()
    assert "Person einladen" in html and "Sprache der E-Mail" in html


@pytest.mark.django_db
def test_accept_page_and_email_in_german(members_world, client):
    invitation_create(
        organization=members_world.customer,
        email="neu@example.com",
        role=OrgRole.GUEST,
        actor=members_world.customer_owner,
        language="de",
    )
    [message] = send_outbox()
    assert "Nehmen Sie die Einladung bis" in message.body and "als Gast" in message.body
    html = client.get(reverse("invitation-accept", kwargs={"token": link_token(message)})).content.decode()
    assert "Konto anlegen und annehmen" in html
    assert (
        "Create account and accept"
        in client.get(
            reverse("invitation-accept", kwargs={"token": link_token(message)}),
            HTTP_ACCEPT_LANGUAGE="en",
            HTTP_COOKIE="portal_language=en",
        ).content.decode()
    )
