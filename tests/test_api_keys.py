"""Personal API keys for the gateway: made on the command line, kept only as a hash, checked, revoked, rate-limited."""

from __future__ import annotations

import datetime
import hashlib
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from inpaint.api import keys
from inpaint.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return get_user_model().objects.create_user("ada", password="not-used-here")


def create_key_on_the_command_line(*arguments) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("createapikey", *arguments, stdout=out, stderr=err)
    return out.getvalue().strip().splitlines()[-1]


def test_createapikey_prints_the_key_last_and_stores_only_its_hash(person):
    key = create_key_on_the_command_line("ada", "--name", "catalogue")

    stored = ApiKey.objects.get()
    assert (stored.user, stored.name) == (person, "catalogue")
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith("sk-" + stored.prefix)
    # The secret after the prefix: 32 random bytes in URL-safe base64.
    assert len(key) - len("sk-") - len(stored.prefix) >= 43
    assert not any(key in str(value) for value in ApiKey.objects.values().get().values())
    assert keys.api_key_authenticate(f"Bearer {key}") == stored


def test_createapikey_for_nobody_says_so():
    with pytest.raises(CommandError, match="nobody"):
        call_command("createapikey", "nobody", stdout=io.StringIO(), stderr=io.StringIO())


def test_two_keys_differ(person):
    (_, first), (_, second) = keys.api_key_create(person), keys.api_key_create(person)
    assert first != second


@pytest.mark.parametrize("header", ["", "Basic abc", "Bearer ", "Bearer sk-", "bearer {key}", "Bearer {key}x",
                                    "Bearer {tampered}", "Token {key}"])
def test_anything_but_the_key_as_a_bearer_is_refused(person, header):
    _, key = keys.api_key_create(person)
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert keys.api_key_authenticate(header.format(key=key, tampered=tampered)) is None


def test_a_revoked_key_is_refused_at_once(person):
    api_key, key = keys.api_key_create(person)
    assert keys.api_key_authenticate(f"Bearer {key}") == api_key

    assert keys.api_key_revoke(api_key)
    assert keys.api_key_authenticate(f"Bearer {key}") is None
    assert not keys.api_key_revoke(api_key)


def test_the_key_of_a_deactivated_person_is_refused(person):
    _, key = keys.api_key_create(person)
    get_user_model().objects.filter(pk=person.pk).update(is_active=False)
    assert keys.api_key_authenticate(f"Bearer {key}") is None


def test_last_used_is_kept_without_a_write_on_every_request(person):
    api_key, key = keys.api_key_create(person)
    assert api_key.last_used_at is None

    keys.api_key_authenticate(f"Bearer {key}")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    keys.api_key_authenticate(f"Bearer {key}")
    assert ApiKey.objects.get().last_used_at == first

    ApiKey.objects.update(last_used_at=timezone.now() - datetime.timedelta(minutes=2))
    keys.api_key_authenticate(f"Bearer {key}")
    assert ApiKey.objects.get().last_used_at > first


def test_each_key_has_its_own_rate(person, settings):
    settings.INPAINT_API_KEY_RATE = "2/60"
    (first, _), (second, _) = keys.api_key_create(person), keys.api_key_create(person)

    assert [keys.api_key_rate_take(first) for _ in range(3)] == [True, True, False]
    assert keys.api_key_rate_take(second)


def test_the_rate_setting_is_documented_with_its_default():
    from webapp import settings as documented

    assert documented.INPAINT_API_KEY_RATE == "300/60"
