import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError

from organizations.models import User

pytestmark = pytest.mark.django_db


def test_custom_user_model_is_active():
    assert get_user_model() is User
    assert User.USERNAME_FIELD == "email"


def test_email_is_normalised_to_lower_case():
    user = User.objects.create_user("Anna.Beispiel@Example.COM", "pw-long-enough-1")
    assert user.email == "anna.beispiel@example.com"


def test_email_is_unique_case_insensitively_even_past_the_manager():
    User.objects.create_user("anna@example.com", "pw-long-enough-1")
    with pytest.raises(IntegrityError):
        # A raw insert that bypasses normalisation still hits the functional unique constraint.
        User.objects.bulk_create([User(email="ANNA@example.com")])


def test_login_with_email_in_any_case(rf):
    User.objects.create_user("anna@example.com", "pw-long-enough-1", first_name="Anna", last_name="B")
    request = rf.post("/accounts/login/")
    assert authenticate(request, username="ANNA@EXAMPLE.COM", password="pw-long-enough-1") is not None
    assert authenticate(request, username="anna@example.com", password="wrong") is None


def test_names_and_language():
    user = User.objects.create_user(
        "b@example.com", "pw-long-enough-1", first_name="Berta", last_name="Bau", language="de"
    )
    assert user.get_full_name() == "Berta Bau"
    assert user.get_short_name() == "Berta"
    assert str(user) == "Berta Bau"
    assert user.language == "de"


def test_superuser():
    admin = User.objects.create_superuser("root@example.com", "pw-long-enough-1")
    assert admin.is_staff and admin.is_superuser
