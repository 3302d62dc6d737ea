"""inpaint.views through Django's test client: the job card polling until final, cancelling a job, and deleting
one from its card or the history."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from inpaint.models import InpaintJob
from tests.live import (  # noqa: F401 (quiet_settings: autouse)
    HTMX, add_result, create_job, form_data, quiet_settings, set_status)

pytestmark = pytest.mark.django_db

Status = InpaintJob.Status


# --- The job card ---------------------------------------------------------------------------------

def test_job_detail_polls_on_while_the_job_runs(client):
    job = create_job(client)
    set_status(job, Status.RUNNING)
    response = client.get(f"/jobs/{job.pk}/", headers=HTMX)
    assert response.status_code == 200
    assert 'data-testid="job-card"' in response.content.decode()


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.FAILED, Status.CANCELED])
def test_job_detail_stops_polling_when_final(client, status):
    job = create_job(client)
    set_status(job, status)
    assert client.get(f"/jobs/{job.pk}/", headers=HTMX).status_code == 286


def test_job_detail_shows_result_images(client):
    job = create_job(client)
    set_status(job, Status.SUCCEEDED)
    add_result(job)
    assert 'data-testid="result-image"' in client.get(f"/jobs/{job.pk}/", headers=HTMX).content.decode()


def test_job_detail_full_page_without_htmx(client):
    job = create_job(client)
    response = client.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    assert 'data-testid="generate"' in response.content.decode()


def test_job_detail_of_an_unknown_job_is_404(client):
    assert client.get(f"/jobs/{uuid.uuid4()}/").status_code == 404


# --- Cancelling -----------------------------------------------------------------------------------

def test_job_cancel_cancels_a_queued_job(client):
    job = create_job(client)
    response = client.post(f"/jobs/{job.pk}/cancel/", headers=HTMX)
    assert response.status_code == 286
    assert InpaintJob.objects.get(pk=job.pk).status == Status.CANCELED


def test_job_cancel_without_htmx_redirects(client):
    job = create_job(client)
    response = client.post(f"/jobs/{job.pk}/cancel/")
    assert response.status_code == 302
    assert InpaintJob.objects.get(pk=job.pk).status == Status.CANCELED


def test_job_cancel_refused_shows_the_reason(client):
    job = create_job(client)
    set_status(job, Status.RUNNING)
    response = client.post(f"/jobs/{job.pk}/cancel/", headers=HTMX)
    assert response.status_code == 200
    assert "can no longer be stopped" in response.content.decode()
    assert InpaintJob.objects.get(pk=job.pk).status == Status.RUNNING


def test_job_cancel_by_another_session_is_404(client):
    job = create_job(client)
    assert Client().post(f"/jobs/{job.pk}/cancel/").status_code == 404
    assert InpaintJob.objects.get(pk=job.pk).status == Status.QUEUED


# --- Deleting a job from its card or the history ------------------------------------------------

def test_the_history_offers_delete_for_finished_jobs_only(client):
    finished = create_job(client, prompt="done")
    set_status(finished, Status.SUCCEEDED)
    client.post("/jobs/", form_data(prompt="waiting"), headers=HTMX)
    waiting = InpaintJob.objects.get(prompt="waiting")
    page = client.get("/").content.decode()
    assert page.count('data-testid="history-delete"') == 1
    assert f'hx-post="/jobs/{finished.pk}/delete/"' in page and f"/jobs/{waiting.pk}/delete/" not in page


def test_deleting_a_job_removes_it_and_its_files_and_tells_the_page(client, media_root,
                                                                    django_capture_on_commit_callbacks):
    job = create_job(client)
    set_status(job, Status.SUCCEEDED)
    files = [media_root / add_result(job).image.name, media_root / job.base_image.name]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion has committed
        response = client.post(f"/jobs/{job.pk}/delete/", headers=HTMX)
    assert response.status_code == 200 and response.content == b""
    # The history refreshes itself, and the page drops the job's card if it shows it.
    assert json.loads(response.headers["HX-Trigger"]) == {"job-finished": {}, "job-deleted": {"id": str(job.pk)}}
    assert not InpaintJob.objects.filter(pk=job.pk).exists()
    assert not any(path.exists() for path in files)


def test_another_visitor_cannot_delete_a_job(client):
    job = create_job(client)
    set_status(job, Status.SUCCEEDED)
    assert Client().post(f"/jobs/{job.pk}/delete/", headers=HTMX).status_code == 404
    assert InpaintJob.objects.filter(pk=job.pk).exists()


def test_deleting_without_htmx_goes_back_to_the_page(client):
    job = create_job(client)
    set_status(job, Status.FAILED)
    response = client.post(f"/jobs/{job.pk}/delete/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
