"""Issue 16, "Emails": a user granted access as a newcomer gets a password link that lasts as long
as an invitation (one setting, `INVITATION_VALID_DAYS`), and choosing the password signs them in
and lands them on their projects – no second trip through the login page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from organizations.account_setup import account_setup_token_generator, account_setup_url
from organizations.models import User
from organizations.roles import OrgRole
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-fresh-passw0rd!"


@pytest.fixture
def granted_newcomer(client, django_capture_on_commit_callbacks):
    partner = factories.PartnerFactory(name="Partner GmbH")
    staff = factories.member(partner, OrgRole.ADMIN)
    shop = factories.project(partner, "Müller shop")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("project-members", kwargs={"number": shop.number}),
            {"email": "emil@example.com", "role": "viewer", "valid_until": "", "language": "en"},
        )
    client.logout()
    [message] = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/password/choose/\S+/)", message.body).group(1)
    return {"shop": shop, "message": message, "link": link, "user": User.objects.get(email="emil@example.com")}


def choose_password(client, link):
    form_page = client.get(link, follow=True)
    assert "new_password1" in form_page.content.decode()
    return client.post(form_page.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})


def test_granted_newcomers_password_link_lasts_as_long_as_an_invitation(client, granted_newcomer):
    assert "7 days" in granted_newcomer["message"].body and "24 hours" not in granted_newcomer["message"].body
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=20)):
        # a password-reset link (24 h) would be dead by now; this one still works
        response = choose_password(client, granted_newcomer["link"])
    assert response.status_code == 302


def test_granted_newcomers_password_link_expires_after_the_invitation_lifetime(client, granted_newcomer):
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=3)):
        page = client.get(granted_newcomer["link"], follow=True).content.decode()
    assert "new_password1" not in page
    assert "ask the person who gave you access to add you again" in page


@override_settings(INVITATION_VALID_DAYS=2)
def test_one_setting_governs_invitations_and_password_links(client, granted_newcomer):
    user = granted_newcomer["user"]
    token = account_setup_token_generator.make_token(user)
    with time_machine.travel(timezone.now() + timedelta(days=1, hours=20)):
        assert account_setup_token_generator.check_token(user, token)
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=3)):
        assert not account_setup_token_generator.check_token(user, token)


def test_a_password_reset_token_is_not_a_password_link(granted_newcomer):
    from django.contrib.auth.tokens import default_token_generator

    user = granted_newcomer["user"]
    assert not account_setup_token_generator.check_token(user, default_token_generator.make_token(user))
    assert not default_token_generator.check_token(user, account_setup_token_generator.make_token(user))
    assert "/accounts/password/choose/" in account_setup_url(user)


def test_granted_newcomer_is_signed_in_after_choosing_the_password_and_lands_on_the_projects(client, granted_newcomer):
    response = choose_password(client, granted_newcomer["link"])
    assert response.status_code == 302 and response["Location"] == reverse("home")
    landing = client.get(response["Location"], follow=True)
    assert landing.redirect_chain[-1][0] == reverse("project-list")
    html = landing.content.decode()
    assert "Your password is set and you are signed in. Welcome!" in html
    assert granted_newcomer["shop"].number in html
    # the link works once
    assert "new_password1" not in client.get(granted_newcomer["link"], follow=True).content.decode()
