"""The routes: the admin and password reset only where they are meant to be reachable."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db


def test_the_admin_is_not_routed_in_open_mode_by_default(client, settings, routes_rebuilt):
    settings.INPAINT_ACCESS, settings.INPAINT_ADMIN_IN_OPEN_MODE = "open", False
    routes_rebuilt()
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404


def test_the_admin_is_routed_in_open_mode_when_a_setting_says_so(client, admin_in_open_mode):
    assert client.get("/admin/login/").status_code == 200


def test_the_admin_is_routed_in_login_mode(client, settings, routes_rebuilt):
    settings.INPAINT_ACCESS = "login"
    routes_rebuilt()
    assert client.get("/admin/login/").status_code == 200


def test_password_reset_is_not_routed_without_real_mail(client, settings, routes_rebuilt):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    routes_rebuilt()
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/accounts/password_change/").status_code == 302  # routed, asks for sign-in


def test_password_reset_is_routed_with_a_mail_backend_that_sends(client, settings, routes_rebuilt):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    routes_rebuilt()
    assert client.get("/accounts/password_reset/").status_code == 200


@pytest.mark.parametrize("password", ["password123", "12345678901", "ada-lovelace"])
def test_common_numeric_and_name_like_passwords_are_refused(django_user_model, password):
    person = django_user_model(username="ada-lovelace", email="ada@example.com")
    with pytest.raises(ValidationError):
        validate_password(password, person)
