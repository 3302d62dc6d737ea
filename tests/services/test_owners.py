"""Ownership rests on the app's own visitor id, and jobs made before signing in move to the account."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inpaint.models import InpaintJob
from inpaint.services.owners import VISITOR_SESSION_KEY
from tests.pictures import mask, picture

pytestmark = pytest.mark.django_db


def post_job(client: Client) -> None:
    response = client.post("/jobs/", {
        "engine": "offline", "prompt": "", "style": "<auto>", "size": "original", "n": "1", "mask_color": "",
        "base_image": SimpleUploadedFile("p.jpg", picture(), "image/jpeg"),
        "mask_image": SimpleUploadedFile("m.png", mask(), "image/png")}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b'data-testid="job-card"' in response.content


def test_the_page_makes_the_visitor_once(client):
    client.get("/")
    visitor_id = client.session[VISITOR_SESSION_KEY]
    client.get("/")
    post_job(client)
    assert client.session[VISITOR_SESSION_KEY] == visitor_id == InpaintJob.objects.get().visitor_id


def test_jobs_made_before_signing_in_are_the_accounts_after(client, sent_steps):
    post_job(client)
    visitor_id = client.session[VISITOR_SESSION_KEY]
    person = get_user_model().objects.create_user("ada", password="a-long-password-1")
    client.login(username="ada", password="a-long-password-1")  # rotates the session key
    job = InpaintJob.objects.get()
    assert (job.owner, job.owner_key, job.visitor_id) == (person, f"user:{person.pk}", visitor_id)
    assert client.get(f"/jobs/{job.pk}/").status_code == 200


def test_another_account_gets_404_on_your_job(client, sent_steps):
    person = get_user_model().objects.create_user("ada", password="a-long-password-1")
    client.force_login(person)
    post_job(client)
    job = InpaintJob.objects.get()
    stranger = Client()
    stranger.force_login(get_user_model().objects.create_user("bob", password="a-long-password-2"))
    assert stranger.get(f"/jobs/{job.pk}/").status_code == 404
