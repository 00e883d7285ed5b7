"""PLT-1: English and German, from the user's preference or Accept-Language, with a switcher."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_in_german_for_accept_language_de(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    html = response.content.decode()
    assert "Anmelden" in html
    assert "Passwort vergessen?" in html


def test_login_page_in_english_by_default(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Content-Language"] == "en"
    assert "Forgot your password?" in response.content.decode()


def test_signed_in_users_preference_wins_over_accept_language(client):
    client.force_login(UserFactory(language="de"))
    response = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "de"
    assert "Benachrichtigungen" in response.content.decode()


def test_language_switcher_saves_the_choice_on_the_user(client):
    user = UserFactory(language="en")
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/notifications/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    user.refresh_from_db()
    assert user.language == "de"
    assert client.get("/notifications/")["Content-Language"] == "de"


def test_language_switcher_for_anonymous_visitors_uses_the_cookie(client):
    client.post("/i18n/setlang/", {"language": "de", "next": "/accounts/login/"})
    assert "Anmelden" in client.get("/accounts/login/").content.decode()


def test_language_switcher_refuses_foreign_redirects(client):
    response = client.post("/i18n/setlang/", {"language": "de", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_unknown_language_is_ignored(client):
    user = UserFactory(language="en")
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"


def test_api_errors_in_german_for_accept_language_de(api_client):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": "x@example.com", "password": "nope"}, format="json", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.json()["error"]["message"] == "E-Mail-Adresse oder Passwort ist falsch."


def _catalogs():
    import glob
    from pathlib import Path

    import polib

    root = Path(__file__).resolve().parent.parent
    paths = sorted(glob.glob(str(root / "*" / "locale" / "de" / "LC_MESSAGES" / "*.po")))
    paths += sorted(glob.glob(str(root / "locale" / "de" / "LC_MESSAGES" / "*.po")))
    return {str(Path(path).relative_to(root)): polib.pofile(path) for path in paths}


def test_every_german_catalogue_is_complete():
    catalogs = _catalogs()
    assert "locale/de/LC_MESSAGES/django.po" in catalogs
    missing = {
        name: [entry.msgid for entry in po if not entry.obsolete and (not entry.translated() or entry.fuzzy)]
        for name, po in catalogs.items()
    }
    assert {name: ids for name, ids in missing.items() if ids} == {}


def test_no_message_is_translated_differently_in_two_catalogues():
    """Django merges all catalogues into one: a msgid with two German texts would show only one of them
    on every page. The same English text must read the same everywhere (use msgctxt where it must not)."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for name, po in _catalogs().items():
        if not name.endswith("django.po"):
            continue
        for entry in po:
            if entry.obsolete or entry.msgid_plural or not entry.msgstr:
                continue
            seen.setdefault((entry.msgctxt or "", entry.msgid), {})[name] = entry.msgstr
    conflicts = {key: texts for key, texts in seen.items() if len(set(texts.values())) > 1}
    assert conflicts == {}
