"""The "choose your password" link of a newcomer: an account created for someone who was given
access (a project role, PRJ-3) before they ever signed in.

The link lasts as long as an invitation (`INVITATION_VALID_DAYS`, one setting for both: a
newcomer gets the same week to react either way), not the 24 hours of a forgotten-password link
(`PASSWORD_RESET_TIMEOUT`). It is Django's password-reset token with its own salt and lifetime, so a
reset link is never accepted here nor the other way round; like a reset link it works once (the
token covers the password hash) and is made when the email is rendered, never stored.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


def account_setup_valid_seconds() -> int:
    return int(settings.INVITATION_VALID_DAYS) * 24 * 60 * 60


class AccountSetupTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "organizations.account_setup.AccountSetupTokenGenerator"

    def check_token(self, user, token) -> bool:
        # Django's check_token reads PASSWORD_RESET_TIMEOUT itself; the same checks, another lifetime.
        if not (user and token):
            return False
        try:
            timestamp_b36, _hash = str(token).split("-")
            timestamp = base36_to_int(timestamp_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - timestamp) <= account_setup_valid_seconds()


account_setup_token_generator = AccountSetupTokenGenerator()


def account_setup_url(user) -> str:
    """The absolute link a newcomer chooses the password with (and is signed in by)."""
    path = reverse(
        "account-setup",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": account_setup_token_generator.make_token(user),
        },
    )
    return f"{settings.PORTAL_BASE_URL}{path}"
