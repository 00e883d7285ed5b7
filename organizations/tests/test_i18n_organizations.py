"""PLT-1 for the organizations pages: a complete German catalogue; pages, errors and emails in German."""

from pathlib import Path

import polib
import pytest
from django.urls import reverse

from organizations.roles import OrgRole
from tests import factories

from ..services.relations import connection_request
from .conftest import ctx, send_outbox

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_every_string_of_the_organizations_app_is_translated():
    po = polib.pofile(str(CATALOGUE))
    assert [e.msgid for e in po if e.fuzzy] == []
    assert [e.msgid for e in po if not e.msgid_plural and not e.msgstr] == []
    assert [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())] == []


@pytest.mark.django_db
def test_customer_list_and_errors_in_german(world, client):
    world.partner_owner.language = "de"
    world.partner_owner.save()
    client.force_login(world.partner_owner)
    page = client.get(reverse("customer-list", kwargs={"org": world.partner.public_id})).content.decode()
    assert "Kunde anlegen" in page and "Bestehende Organisation verbinden" in page and "Offene Anträge" in page
    response = client.post(
        reverse("customer-connect", kwargs={"org": world.partner.public_id}), {"identifier": "ORG-AAAA-BBBB"}
    )
    assert "Keine Organisation hat die Kennung „ORG-AAAA-BBBB“" in response.content.decode()
    response = client.post(
        reverse("organization-profile", kwargs={"org": world.partner.public_id}),
        {"name": "Partner GmbH", "country": "DE", "vat_id": "DE136695977"},
    )
    assert "ist keine gültige USt-IdNr. für Deutschland" in response.content.decode()


@pytest.mark.django_db
def test_connection_request_email_in_the_recipients_language(world):
    german = factories.member(world.direct, OrgRole.ADMIN, language="de")
    connection_request(
        context=ctx(world.partner_owner, world.partner), actor=world.partner_owner, identifier=world.direct.public_id
    )
    emails = {tuple(m.to): m for m in send_outbox()}
    assert emails[(german.email,)].subject == "Partner GmbH möchte Ihr Reseller werden"
    assert "Offene Anträge" in emails[(german.email,)].body
    assert emails[(world.direct_owner.email,)].subject == "Partner GmbH asks to become your reseller"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "named", "not_named"), [("de", "Ägypten", "Egypt"), ("en", "Egypt", "Ägypten")])
def test_country_choices_are_named_and_sorted_in_the_readers_language(world, client, language, named, not_named):
    """The country selects of the profile and the customer form read the countries for each form
    (they were a list fixed when the module was imported: English for German readers)."""
    world.partner_owner.language = language
    world.partner_owner.save()
    client.force_login(world.partner_owner)
    for route in ("organization-profile", "customer-create"):
        page = client.get(reverse(route, kwargs={"org": world.partner.public_id})).content.decode()
        assert f'<option value="EG">{named}</option>' in page and not_named not in page, route
    if language == "de":  # sorted by the German names: Ägypten next to Afghanistan, before Albanien
        assert page.index(">Afghanistan<") < page.index(">Ägypten<") < page.index(">Albanien<")
