"""PLT-1 browser basics: login, logout, password reset by email, forced password change."""

import re

import pytest
from django.core import mail

from portal.models import OutboxMessage
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_and_logout(client):
    UserFactory(email="lisa@example.com")
    response = client.post("/accounts/login/", {"username": "LISA@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/notifications/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/notifications/").status_code == 302


def test_wrong_password_shows_a_form_error(client):
    UserFactory(email="lisa@example.com")
    response = client.post("/accounts/login/", {"username": "lisa@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct email" in response.content.decode()


def test_login_is_throttled_after_repeated_failures(client):
    UserFactory(email="lisa@example.com")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "lisa@example.com", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "lisa@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_pages_need_a_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_password_reset_by_email_in_the_users_language(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="lisa@example.com", language="de")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "Lisa@Example.com"})
    assert response.status_code == 302
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DONE
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lisa@example.com"]
    assert "Passwort" in message.subject
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", message.body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a-brand-new-secret-42", "new_password2": "a-brand-new-secret-42"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret-42")


def test_password_reset_for_unknown_email_looks_the_same_and_sends_nothing(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_initial_password_must_be_changed_at_first_login(client):
    user = UserFactory(must_change_password=True)
    client.force_login(user)
    response = client.get("/notifications/")
    # the page asked for comes along, so the person lands there afterwards (ORG-5)
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/?next=%2Fnotifications%2F"
    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "my-own-secret-2026", "new_password2": "my-own-secret-2026"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get("/notifications/").status_code == 200


def test_weak_new_password_is_refused_with_a_message(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/", {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
