"""Sending a job in doubt again (inpaint.views.job_send_again, inpaint.services.resend): only when its person
chooses, only for a job in doubt, as a new job with the old one's own picture, mask and options."""

from __future__ import annotations

import pytest
from django.test import Client

from inpaint.models import InpaintJob
from inpaint.services.recovery import IN_DOUBT_MESSAGE
from tests.live import HTMX, create_job, quiet_settings  # noqa: F401 (quiet_settings: autouse)

pytestmark = pytest.mark.django_db

Status = InpaintJob.Status
QWEN = "qwen-image-edit-plus"


def in_doubt_job(client, **fields) -> InpaintJob:
    job = create_job(client, prompt="a yellow kite")
    InpaintJob.objects.filter(pk=job.pk).update(**{"engine": QWEN, "status": Status.FAILED, "error_code": "InDoubt",
                                                   "error_message": IN_DOUBT_MESSAGE, "n": 2, **fields})
    return InpaintJob.objects.get(pk=job.pk)


def read(field) -> bytes:
    with field.open("rb") as stream:
        return stream.read()


def test_the_card_of_a_job_in_doubt_offers_send_again(client):
    job = in_doubt_job(client)

    page = client.get(f"/jobs/{job.pk}/", headers=HTMX).content.decode()

    assert 'data-testid="send-again"' in page and f"/jobs/{job.pk}/send-again/" in page
    assert "billed twice" in page


def test_the_card_of_any_other_failed_job_does_not(client):
    job = in_doubt_job(client, error_code="InvalidParameter")

    assert 'data-testid="send-again"' not in client.get(f"/jobs/{job.pk}/", headers=HTMX).content.decode()


def test_send_again_makes_a_new_job_of_the_same_pictures_and_options(client):
    job = in_doubt_job(client)

    response = client.post(f"/jobs/{job.pk}/send-again/", headers=HTMX)

    new = InpaintJob.objects.exclude(pk=job.pk).get()
    assert response.status_code == 200 and f'data-job="{new.pk}"' in response.content.decode()
    assert (new.status, new.engine, new.prompt, new.n, new.seed, new.owner_key) == (
        Status.QUEUED, QWEN, "a yellow kite", 2, job.seed, job.owner_key)
    assert read(new.base_image) == read(job.base_image) and read(new.mask_image) == read(job.mask_image)
    assert (new.base_width, new.base_height, new.context, new.edge_softness) == (
        job.base_width, job.base_height, job.context, job.edge_softness)
    assert InpaintJob.objects.get(pk=job.pk).status == Status.FAILED  # the old one stays as it was


def test_send_again_without_htmx_opens_the_new_job(client):
    job = in_doubt_job(client)

    response = client.post(f"/jobs/{job.pk}/send-again/")

    new = InpaintJob.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302 and response.url == f"/jobs/{new.pk}/"


def test_a_job_not_in_doubt_is_not_sent_again(client):
    job = in_doubt_job(client, error_code="InvalidParameter")

    response = client.post(f"/jobs/{job.pk}/send-again/", headers=HTMX)

    assert "Only a job whose answer was lost" in response.content.decode()
    assert InpaintJob.objects.count() == 1


def test_another_persons_job_is_not_found(client):
    job = in_doubt_job(client)

    assert Client().post(f"/jobs/{job.pk}/send-again/").status_code == 404
    assert InpaintJob.objects.count() == 1


def test_send_again_meets_the_caps_as_any_new_job(client, settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 1  # the job asks for 2 images
    job = in_doubt_job(client)

    response = client.post(f"/jobs/{job.pk}/send-again/", headers=HTMX)

    assert 'class="notice"' in response.content.decode()  # the refusal, on the old job's card
    assert InpaintJob.objects.count() == 1
