"""Results at the photo's own resolution, and result links that misbehave, through the real parts: the form
over HTTP, a Celery worker on Redis, and the DashScope stand-in, which (like the real model) also changes
pixels outside the mask: a slight colour shift and magenta marks near the corners of what it was sent."""

from __future__ import annotations

import io

import numpy as np
import pillow_heif
import pytest
import requests
from PIL import Image, ImageDraw

from inpaint import images, regions
from inpaint.models import InpaintJob
from tests import pictures
from tests.live import TEST_API_KEY, wait_for
from tests.dashscope_standin import MARK_COLOUR

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def cloud_worker(start_worker, dashscope, live_server):
    return start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                        INPAINT_PUBLIC_BASE_URL=live_server.url)


def post(live_server, base: tuple[str, bytes, str], mask_png: bytes, *, n: int = 1) -> InpaintJob:
    session = requests.Session()
    session.get(live_server.url + "/", timeout=10)
    response = session.post(
        live_server.url + "/jobs/", timeout=120,
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": live_server.url + "/"},
        data={"engine": "wanx-x-painting", "prompt": "a red kite", "style": "<auto>", "size": "original",
              "n": str(n), "mask_color": ""},
        files={"base_image": base, "mask_image": ("mask.png", mask_png, "image/png")})
    assert response.status_code == 200 and 'data-testid="job-card"' in response.text, response.text[:500]
    return InpaintJob.objects.get()


def finished(job: InpaintJob, timeout: float = 90) -> InpaintJob:
    wait_for(lambda: InpaintJob.objects.get(pk=job.pk).is_final, timeout=timeout, message="the job to end")
    job.refresh_from_db()
    return job


def corner_mask(width: int, height: int) -> bytes:
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((width - 520, 120, width - 260, 380), fill=255)  # small, near the top-right
    return images.encode_png(mask)


def stored_pixels(field) -> np.ndarray:
    with field.open("rb") as stored:
        return np.asarray(images.open_rgb(stored.read()))


def beyond_band(job: InpaintJob) -> np.ndarray:
    with job.mask_image.open("rb") as stored:
        return np.asarray(regions.feather(images.open_mask(stored.read()), job.edge_softness)) == 0


def test_a_sideways_24_mp_jpeg_comes_back_upright_at_its_size_with_only_the_painted_area_changed(
        live_server, dashscope, standin_settings, start_worker):
    cloud_worker(start_worker, dashscope, live_server)
    job = finished(post(live_server, ("photo.jpg", pictures.picture(6000, 4000, orientation=6), "image/jpeg"),
                        corner_mask(4000, 6000)))
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    [result] = job.results.all()
    assert (result.width, result.height) == (4000, 6000)

    # What the model got: a crop around the mask, shaped like the output size it was asked for.
    [task] = dashscope.tasks.values()
    asked = tuple(int(side) for side in task.parameters["size"].split("*"))
    assert task.received_base.size == asked == task.received_mask.size
    region = job.region
    width, height = region["right"] - region["left"], region["bottom"] - region["top"]
    assert abs(width / height - asked[0] / asked[1]) < 0.01
    assert width < 4000 and height < 6000

    painted, original = stored_pixels(result.image), stored_pixels(job.base_image)
    beyond = beyond_band(job)
    assert np.array_equal(painted[beyond], original[beyond])  # the photo's own pixels, upright
    assert not (painted == MARK_COLOUR).all(axis=2).any()  # the model's marks never reach the result
    assert (painted[~beyond] != original[~beyond]).any()


def test_a_png_comes_back_identical_outside_the_band(live_server, dashscope, standin_settings, start_worker):
    cloud_worker(start_worker, dashscope, live_server)
    job = finished(post(live_server, ("shot.png", pictures.picture(900, 700, fmt="PNG"), "image/png"),
                        corner_mask(900, 700)))
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    [result] = job.results.all()
    with result.image.open("rb") as stored:
        assert pictures.open_image(stored.read()).format == "PNG"
    beyond = beyond_band(job)
    assert np.array_equal(stored_pixels(result.image)[beyond], np.asarray(pictures.open_image(
        pictures.picture(900, 700, fmt="PNG")).convert("RGB"))[beyond])


@pytest.mark.parametrize("kind", ["webp", "heic"])
def test_webp_and_heic_come_in_and_go_out_at_their_size(kind, live_server, dashscope, standin_settings, start_worker):
    cloud_worker(start_worker, dashscope, live_server)
    photo = pictures.open_image(pictures.picture(1200, 800, fmt="PNG")).convert("RGB")
    buffer = io.BytesIO()
    if kind == "heic":
        pillow_heif.from_pillow(photo).save(buffer, quality=90)
    else:
        photo.save(buffer, "WEBP", quality=90)
    job = finished(post(live_server, (f"photo.{kind}", buffer.getvalue(), f"image/{kind}"), corner_mask(1200, 800)))
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    assert [(r.width, r.height) for r in job.results.all()] == [(1200, 800)]


def test_a_suspended_task_is_named_and_finishes(live_server, dashscope, standin_settings, start_worker):
    dashscope.suspend_next_tasks(1, seconds=4)
    cloud_worker(start_worker, dashscope, live_server)
    job = post(live_server, ("p.jpg", pictures.picture(), "image/jpeg"), pictures.mask())
    wait_for(lambda: InpaintJob.objects.get(pk=job.pk).is_suspended, timeout=30, message="the job to be suspended")
    assert finished(job).status == InpaintJob.Status.SUCCEEDED


def test_a_result_link_redirected_to_the_machine_itself_is_refused(live_server, dashscope, standin_settings,
                                                                   start_worker):
    dashscope.redirect_results_to(live_server.url + "/admin/")
    cloud_worker(start_worker, dashscope, live_server)
    job = finished(post(live_server, ("p.jpg", pictures.picture(), "image/jpeg"), pictures.mask()))
    assert job.status == InpaintJob.Status.FAILED
    assert job.results.get().error_code == "ResultUnusable"
    assert dashscope.creates_accepted == 1


def test_a_200_mb_result_body_is_cut_off(live_server, dashscope, standin_settings, start_worker):
    dashscope.oversize_results(bytes=200 * 1024 * 1024)
    cloud_worker(start_worker, dashscope, live_server)
    job = finished(post(live_server, ("p.jpg", pictures.picture(), "image/jpeg"), pictures.mask()))
    assert job.status == InpaintJob.Status.FAILED
    assert job.results.get().error_code == "ResultUnusable"
    assert dashscope.result_bytes_sent < 100 * 1024 * 1024


def test_a_403_that_recovers_keeps_the_image(live_server, dashscope, standin_settings, start_worker):
    dashscope.fail_result_downloads(status=403, count=1)
    cloud_worker(start_worker, dashscope, live_server)
    job = finished(post(live_server, ("p.jpg", pictures.picture(), "image/jpeg"), pictures.mask()))
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    assert dashscope.result_downloads >= 2
