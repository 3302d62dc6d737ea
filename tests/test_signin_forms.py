"""The sign-in throttle through the real sign-in pages: per account, per network, in plain words."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from inpaint.signin_forms import SIGNIN_PAUSED_MESSAGE
from webapp import settings as documented

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"
ALLOWED_FAILURES = int(documented.INPAINT_SIGNIN_RATE.split("/")[0])


@pytest.fixture(autouse=True)
def documented_signin_rate(settings):
    settings.INPAINT_SIGNIN_RATE = documented.INPAINT_SIGNIN_RATE
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_staff=True, is_superuser=True)


def sign_in(username: str, password: str, *, address: str = "203.0.113.9", path: str = "/accounts/login/"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def test_after_a_few_failures_the_account_is_paused_even_with_the_right_password(ada):
    for attempt in range(ALLOWED_FAILURES):
        assert sign_in("ada", f"wrong-{attempt}").status_code == 200
    refused = sign_in("ada", PASSWORD, address="198.51.100.1")  # from elsewhere: the account is paused
    assert refused.status_code == 200
    assert SIGNIN_PAUSED_MESSAGE in refused.content.decode().replace("&#x27;", "'")
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_after_a_few_failures_the_network_is_paused_for_every_account(ada, django_user_model):
    django_user_model.objects.create_user("grace", password=PASSWORD)
    for attempt in range(ALLOWED_FAILURES):
        sign_in(f"nobody-{attempt}", "wrong")
    assert SIGNIN_PAUSED_MESSAGE in sign_in("grace", PASSWORD).content.decode().replace("&#x27;", "'")
    assert sign_in("grace", PASSWORD, address="198.51.100.1").status_code == 302


def test_fewer_failures_than_allowed_still_let_the_person_in(ada):
    for attempt in range(ALLOWED_FAILURES - 1):
        sign_in("ada", f"wrong-{attempt}")
    assert sign_in("ada", PASSWORD).status_code == 302


def test_the_admins_sign_in_is_throttled_too(ada, admin_in_open_mode):
    for attempt in range(ALLOWED_FAILURES):
        sign_in("ada", f"wrong-{attempt}", path="/admin/login/")
    refused = sign_in("ada", PASSWORD, path="/admin/login/")
    assert refused.status_code == 200
    assert SIGNIN_PAUSED_MESSAGE in refused.content.decode().replace("&#x27;", "'")
