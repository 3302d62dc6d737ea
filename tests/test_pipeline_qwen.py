"""Qwen-Image-Edit through the real parts: the form over HTTP, a Celery worker on Redis, and the DashScope stand-in,
whose synchronous call answers as the real model does: close to the size asked, the content shifted by 1–2 px and
zoomed by 1 %, and every pixel recoloured."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint import images, regions
from inpaint.models import InpaintJob
from tests import pictures
from tests.live import Visitor, cloud_worker, wait_all_final, wait_for, wait_succeeded

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

GENERATION = "/api/v1/services/aigc/multimodal-generation/generation"


def calls(dashscope) -> list:
    return [request for request in dashscope.requests if request.path == GENERATION]


def test_a_sideways_24_mp_jpeg_comes_back_upright_at_its_size_with_only_the_painted_area_changed(
        live_server, dashscope, standin_settings, start_worker):
    cloud_worker(start_worker, dashscope, live_server, beat=False)
    mask = np.zeros((6000, 4000), np.uint8)
    mask[2500:3300, 1200:2600] = 255  # upright: 4000 wide, 6000 high
    Visitor(live_server).post_job("a red kite", engine="qwen-image-edit-plus", mask_png=images.encode_png(
        Image.fromarray(mask)), base=("photo.jpg", pictures.picture(6000, 4000, orientation=6), "image/jpeg"))
    job = wait_succeeded(InpaintJob.objects.get(), timeout=180)
    [result] = job.results.all()
    assert (result.width, result.height) == (4000, 6000)

    # One synchronous call, never asked for async, at the region's own shape in multiples of 16.
    [call] = calls(dashscope)
    assert "X-DashScope-Async" not in call.headers and not dashscope.tasks
    assert dashscope.generations_answered == 1
    asked = tuple(int(side) for side in call.json["parameters"]["size"].split("*"))
    assert all(side % 16 == 0 and 512 <= side <= 2048 for side in asked)
    [generation] = dashscope.generations.values()
    assert generation.received_images[0].size == asked

    painted, original = pictures.stored_pixels(result.image), pictures.stored_pixels(job.base_image)
    with job.mask_image.open("rb") as stored:
        beyond = np.asarray(regions.feather(images.open_mask(stored.read()), job.edge_softness)) == 0
    assert np.array_equal(painted[beyond], original[beyond])  # the photo's own pixels, upright
    assert (painted[~beyond] != original[~beyond]).any()  # and the painted area is the model's


def test_a_worker_killed_during_the_call_leaves_the_job_in_doubt_and_only_the_person_sends_it_again(
        live_server, dashscope, standin_settings, start_worker):
    dashscope.generation_seconds = 20.0
    worker = cloud_worker(start_worker, dashscope, live_server)
    visitor = Visitor(live_server)
    visitor.post_job("a red kite", engine="qwen-image-edit-plus")
    wait_for(lambda: dashscope.generations, timeout=30, message="the call to reach the service")
    worker.kill()
    cloud_worker(start_worker, dashscope, live_server)

    [job] = wait_all_final(1, timeout=45)
    assert (job.status, job.error_code) == (InpaintJob.Status.FAILED, "InDoubt")
    card = visitor.session.get(f"{visitor.url}/jobs/{job.pk}/", headers={"HX-Request": "true"}, timeout=10).text
    assert 'data-testid="send-again"' in card and "billed twice" in card
    assert len(calls(dashscope)) == 1  # the sweep found the lost call and did not send it again

    dashscope.generation_seconds = 0.2
    response = visitor.session.post(
        f"{visitor.url}/jobs/{job.pk}/send-again/", timeout=30,
        headers={"HX-Request": "true", "X-CSRFToken": visitor.session.cookies["csrftoken"], "Referer": visitor.url + "/"})
    assert response.status_code == 200 and 'data-testid="job-card"' in response.text, response.text[:500]
    again = next(other for other in wait_all_final(2, timeout=60) if other.pk != job.pk)
    assert again.status == InpaintJob.Status.SUCCEEDED, (again.error_code, again.error_message)
    assert len(calls(dashscope)) == 2 and calls(dashscope)[1].json == calls(dashscope)[0].json
