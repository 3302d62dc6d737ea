"""A batch through the real parts: the page's posts over HTTP, a Celery worker process on Redis, the DashScope
stand-in painting each photo, and the ZIP of the results downloaded over HTTP."""

from __future__ import annotations

import io
import zipfile

import pytest
import requests

from inpaint.models import Batch, InpaintJob
from tests import pictures
from tests.live import TEST_API_KEY, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIZES = [(640, 480), (1280, 960), (800, 600), (480, 640), (1024, 768)]


def visitor(live_server) -> requests.Session:
    session = requests.Session()
    assert session.get(live_server.url + "/", timeout=10).status_code == 200
    session.headers.update({"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"],
                            "Referer": live_server.url + "/"})
    return session


def form(prompt: str) -> dict:
    return {"engine": "wanx-x-painting", "prompt": prompt, "style": "<auto>", "size": "original", "n": "1",
            "mask_color": ""}


def test_a_batch_is_painted_photo_by_photo_between_other_peoples_jobs(live_server, dashscope, standin_settings,
                                                                       start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    dashscope.running_seconds = 0.3
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)
    owner = visitor(live_server)
    (width, height), *others = SIZES
    started = owner.post(live_server.url + "/batches/", data=form("a red kite") | {"photo_count": str(len(SIZES))},
                         files={"base_image": ("0.jpg", pictures.picture(width, height), "image/jpeg"),
                                "mask_image": ("mask.png", pictures.mask(width, height), "image/png")}, timeout=60)
    assert 'data-testid="batch-card"' in started.text, started.text[:2000]
    batch = Batch.objects.get()
    for index, (width, height) in enumerate(others, start=1):
        answer = owner.post(f"{live_server.url}/batches/{batch.pk}/photos/", timeout=60,
                            files={"base_image": (f"{index}.jpg", pictures.picture(width, height), "image/jpeg")})
        assert answer.status_code == 200, answer.text[:500]
    # Someone else's single job, posted while the batch's jobs wait: it takes its turn between them.
    neighbour = visitor(live_server)
    single = neighbour.post(live_server.url + "/jobs/", data=form("a blue boat"), timeout=60,
                            files={"base_image": ("boat.jpg", pictures.picture(), "image/jpeg"),
                                   "mask_image": ("mask.png", pictures.mask(), "image/png")})
    assert single.status_code == 200
    jobs = InpaintJob.objects.all()
    wait_for(lambda: all(job.is_final for job in jobs.all()) and jobs.count() == len(SIZES),
             timeout=120, message="every job of the batch and the neighbour's to end")

    batch.refresh_from_db()
    # The photo of another shape (480 × 640) was skipped, with its reason on the card.
    assert [photo["name"] for photo in batch.skipped] == ["3.jpg"]
    painted = list(jobs.filter(batch=batch).order_by("submitted_at"))
    assert [job.status for job in painted] == [InpaintJob.Status.SUCCEEDED] * (len(SIZES) - 1)
    neighbours_job = jobs.get(batch__isnull=True)
    assert neighbours_job.status == InpaintJob.Status.SUCCEEDED
    assert neighbours_job.submitted_at < painted[-1].submitted_at  # not behind the whole batch
    timeline = dashscope.running_timeline
    assert all(later[0] >= earlier[1] for earlier, later in zip(timeline, timeline[1:]))  # one running at a time
    assert dashscope.throttled == 0

    card = owner.get(f"{live_server.url}/batches/{batch.pk}/", timeout=10)
    assert card.status_code == 286 and "4 of 5 done, 1 skipped" in card.text
    download = owner.get(f"{live_server.url}/batches/{batch.pk}/results.zip", timeout=60, headers={"HX-Request": ""})
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert sorted(archive.namelist()) == ["0.png", "1.png", "2.png", "4.png"]
    for name, size in zip(["0.png", "1.png", "2.png", "4.png"], [SIZES[0], SIZES[1], SIZES[2], SIZES[4]]):
        assert pictures.open_image(archive.read(name)).size == size  # each at its photo's own size
