"""The API keys page: a signed-in person makes a named key (shown once), sees their keys and revokes one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from inpaint.api import keys
from inpaint.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(client):
    person = get_user_model().objects.create_user("ada")
    client.force_login(person)
    return person


def test_a_key_made_in_the_page_is_shown_once_and_works(client, ada):
    response = client.post("/api-keys/", {"name": "catalogue"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = response.context["new_key"]
    assert key and key in response.content.decode()
    stored = ApiKey.objects.get()
    assert (stored.user, stored.name) == (ada, "catalogue")
    assert keys.api_key_authenticate(f"Bearer {key}") == stored
    again = client.get("/api-keys/").content.decode()
    assert key not in again and "catalogue" in again and stored.prefix in again


def test_a_key_needs_a_name(client, ada):
    assert client.post("/api-keys/", {"name": ""}).context["new_key"] == ""
    assert not ApiKey.objects.exists()


def test_revoking_in_the_page_refuses_the_key_at_once(client, ada):
    api_key, key = keys.api_key_create(ada, "old script")

    assert client.post(f"/api-keys/{api_key.pk}/revoke/").status_code == 302
    assert keys.api_key_authenticate(f"Bearer {key}") is None


def test_another_persons_key_cannot_be_revoked(client, ada):
    other, key = keys.api_key_create(get_user_model().objects.create_user("grace"))

    assert client.post(f"/api-keys/{other.pk}/revoke/").status_code == 404
    assert keys.api_key_authenticate(f"Bearer {key}") == other
    assert "grace" not in client.get("/api-keys/").content.decode()


def test_keys_are_for_signed_in_people(client):
    response = client.get("/api-keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
