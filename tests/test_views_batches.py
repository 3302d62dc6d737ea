"""inpaint.batch_views through Django's test client: a batch started with its first photo, the others sent one by
one with the first one's mask (scaled, stretched or skipped by shape), its card, cancel all, retry the failed ones,
the spend guard over the whole batch, and the ZIP of its results."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inpaint.models import Batch, InpaintJob
from inpaint.services import batches
from tests.live import HTMX, add_result, body, form_data, quiet_settings, set_status  # noqa: F401 (autouse)
from tests.pictures import mask, open_image, picture

pytestmark = pytest.mark.django_db

Status = InpaintJob.Status


def start(client, photo_count=3, **extra):
    data = form_data(**extra) | {"photo_count": str(photo_count)}
    response = client.post("/batches/", data, headers=HTMX)
    assert response.status_code == 200, response.content.decode()
    return Batch.objects.get(), response


def send(client, batch, content: bytes, name="next.jpg"):
    return client.post(f"/batches/{batch.pk}/photos/",
                       {"base_image": SimpleUploadedFile(name, content, "image/jpeg")}, headers=HTMX)


def test_a_batch_starts_with_its_first_photo_as_a_job_of_the_batch(client):
    batch, response = start(client)
    assert 'data-testid="batch-card"' in response.content.decode()
    job = InpaintJob.objects.get()
    assert (job.batch_id, job.source_name, job.held) == (batch.pk, "photo.jpg", False)
    assert batch.first_job_id == job.pk and batch.photo_count == 3


def test_each_photo_sent_takes_the_first_ones_mask_scaled_to_its_own_size(client):
    batch, _ = start(client)
    assert send(client, batch, picture(1280, 960), "big.jpg").status_code == 200
    job = InpaintJob.objects.get(source_name="big.jpg")
    assert (job.base_width, job.base_height, job.batch_id) == (1280, 960, batch.pk)
    stored = open_image(job.mask_image.read())
    assert stored.size == (1280, 960)
    assert {value for value, count in enumerate(stored.histogram()) if count} == {0, 255}  # scaled nearest-neighbour: still pure black and white


def test_a_photo_of_another_shape_is_skipped_with_its_reason_unless_placed_relative(client):
    batch, _ = start(client)
    response = send(client, batch, picture(480, 640), "turned.jpg")
    assert response.status_code == 200
    batch.refresh_from_db()
    assert batch.skipped[0]["name"] == "turned.jpg" and "another shape" in batch.skipped[0]["reason"]
    assert "turned.jpg" in response.content.decode()
    assert not InpaintJob.objects.filter(source_name="turned.jpg").exists()


def test_a_photo_of_another_shape_takes_the_mask_stretched_when_asked(client):
    batch, _ = start(client, other_shapes="relative")
    send(client, batch, picture(480, 640), "turned.jpg")
    job = InpaintJob.objects.get(source_name="turned.jpg")
    assert open_image(job.mask_image.read()).size == (480, 640)


def test_a_broken_photo_is_listed_as_skipped_in_plain_words(client):
    batch, _ = start(client)
    response = send(client, batch, b"not a picture at all", "broken.jpg")
    assert response.status_code == 200
    batch.refresh_from_db()
    assert batch.skipped[0]["name"] == "broken.jpg"
    assert "picture" in batch.skipped[0]["reason"].lower()


def test_no_more_photos_than_the_batch_was_started_with(client):
    batch, _ = start(client, photo_count=2)
    assert send(client, batch, picture(), "2.jpg").status_code == 200
    assert send(client, batch, picture(), "3.jpg").status_code == 409
    assert InpaintJob.objects.filter(batch=batch).count() == 2


def test_the_batch_releases_two_jobs_at_a_time_and_holds_the_rest(client):
    batch, _ = start(client, photo_count=5)
    for index in range(4):
        send(client, batch, picture(), f"{index}.jpg")
    jobs = InpaintJob.objects.filter(batch=batch)
    assert jobs.filter(held=False).count() == batches.BATCH_WINDOW
    assert jobs.filter(held=True).count() == 5 - batches.BATCH_WINDOW


def test_a_batch_waits_instead_of_being_refused_by_the_jobs_in_progress(client, settings):
    settings.INPAINT_MAX_ACTIVE_JOBS = 1
    batch, _ = start(client, photo_count=3)
    for index in range(2):
        assert send(client, batch, picture(), f"{index}.jpg").status_code == 200
    jobs = InpaintJob.objects.filter(batch=batch)
    assert (jobs.filter(held=False).count(), jobs.filter(held=True).count()) == (1, 2)


def test_the_spend_guard_counts_the_whole_batch_and_says_what_it_would_cost(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 10
    response = client.post("/batches/", form_data(engine="wanx-x-painting", prompt="a kite", n="2")
                           | {"photo_count": "6"}, headers=HTMX)
    text = response.content.decode()
    assert "This batch would make 12 images." in text and "10 cloud images left" in text
    assert not Batch.objects.exists() and not InpaintJob.objects.exists()


def test_a_bad_photo_count_is_refused_in_plain_words(client, settings):
    settings.INPAINT_BATCH_MAX_PHOTOS = 10
    response = client.post("/batches/", form_data() | {"photo_count": "11"}, headers=HTMX)
    assert "A batch takes at most 10 photos" in response.content.decode()
    assert not Batch.objects.exists()


def test_the_card_counts_done_failed_and_skipped(client):
    batch, _ = start(client, photo_count=4)
    send(client, batch, picture(), "2.jpg")
    send(client, batch, picture(480, 640), "turned.jpg")
    first, second = InpaintJob.objects.filter(batch=batch).order_by("source_name")
    set_status(first, Status.SUCCEEDED)
    set_status(second, Status.FAILED)
    text = client.get(f"/batches/{batch.pk}/", headers=HTMX).content.decode()
    assert "1 of 4 done, 1 failed, 1 skipped · 3 of 4 photos received" in text
    assert 'data-testid="batch-retry"' in text and 'data-testid="batch-cancel"' in text


def test_cancel_all_cancels_waiting_jobs_and_takes_no_more_photos(client):
    batch, _ = start(client, photo_count=5)
    for index in range(3):
        send(client, batch, picture(), f"{index}.jpg")
    response = client.post(f"/batches/{batch.pk}/cancel/", headers=HTMX)
    assert response.status_code == 286  # ended: the card stops polling
    assert set(InpaintJob.objects.filter(batch=batch).values_list("status", flat=True)) == {Status.CANCELED}
    assert send(client, batch, picture(), "late.jpg").status_code == 409


def test_retry_makes_the_failed_ones_again_in_the_batch(client):
    batch, _ = start(client, photo_count=2)
    send(client, batch, picture(), "2.jpg")
    failed = InpaintJob.objects.get(source_name="2.jpg")
    set_status(failed, Status.FAILED)
    client.post(f"/batches/{batch.pk}/retry/", headers=HTMX)
    again = InpaintJob.objects.get(batch=batch, source_name="2.jpg")
    assert again.pk != failed.pk and again.status == Status.QUEUED
    failed.refresh_from_db()
    assert failed.batch_id is None and failed.status == Status.FAILED  # kept in the history as it ended


def test_the_zip_holds_each_result_under_its_photos_own_name(client):
    batch, _ = start(client, photo_count=3)
    send(client, batch, picture(), "beach.jpg")
    send(client, batch, picture(), "photo.jpg")  # the same name as the first
    for job in InpaintJob.objects.filter(batch=batch):
        set_status(job, Status.SUCCEEDED)
        add_result(job, picture(64, 48, fmt="PNG"))
    response = client.get(f"/batches/{batch.pk}/results.zip")
    assert response["Content-Type"] == "application/zip" and response.streaming
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert sorted(archive.namelist()) == ["beach.png", "photo (2).png", "photo.png"]
    assert open_image(archive.read("beach.png")).size == (64, 48)


def test_another_persons_batch_is_not_found(client):
    batch, _ = start(client)
    stranger = Client()
    assert stranger.get(f"/batches/{batch.pk}/", headers=HTMX).status_code == 404
    assert send(stranger, batch, picture()).status_code == 404
    assert stranger.get(f"/batches/{batch.pk}/results.zip").status_code == 404


def test_a_photo_post_without_a_photo_says_so(client):
    batch, _ = start(client)
    response = client.post(f"/batches/{batch.pk}/photos/", {}, headers=HTMX)
    assert response.status_code == 400 and "base_image" in response.content.decode()


def test_the_batch_page_without_htmx_shows_the_card_in_the_studio(client):
    batch, _ = start(client)
    text = client.get(f"/batches/{batch.pk}/").content.decode()
    assert 'id="job-form"' in text and 'data-testid="batch-card"' in text
