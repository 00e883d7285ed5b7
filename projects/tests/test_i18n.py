"""PLT-1 for the projects app: a complete German catalogue, pages and emails in German."""

from pathlib import Path

import polib
import pytest
from django.urls import reverse

from tests import factories

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_every_string_of_the_projects_app_is_translated():
    po = polib.pofile(str(CATALOGUE))
    assert [e.msgid for e in po if e.fuzzy] == []
    assert [e.msgid for e in po if not e.msgid_plural and not e.msgstr] == []
    assert [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())] == []


@pytest.mark.django_db
def test_project_pages_in_german(client):
    organization = factories.OrganizationFactory()
    project = factories.project(organization, "Webshop")
    client.force_login(factories.member(organization, "owner", language="de"))
    html = client.get(reverse("project-detail", kwargs={"number": project.number})).content.decode()
    assert "Ihr Zugriff" in html and "Mitglieder und Rollen" in html and "Mitglieder verwalten" in html
    members = client.get(reverse("project-members", kwargs={"number": project.number})).content.decode()
    assert "Einer Person eine Rolle geben" in members and "Betrachter" in members
