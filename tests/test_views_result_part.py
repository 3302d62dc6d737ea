"""inpaint.views.job_result_part through Django's test client: a part of a finished result at its own pixels,
for its owner only, and a part that cannot be served refused in plain words."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from inpaint import options
from inpaint.models import JobResult
from tests.live import add_result, create_job, quiet_settings  # noqa: F401 (quiet_settings: autouse)
from tests.pictures import picture

pytestmark = pytest.mark.django_db

SIZE = (300, 200)


def finished_job(client):
    job = create_job(client)
    content = picture(*SIZE, fmt="PNG")
    add_result(job, content=content)
    JobResult.objects.filter(job=job).update(width=SIZE[0], height=SIZE[1])
    return job, Image.open(io.BytesIO(content)).convert("RGB")


def part_url(job, left, top, right, bottom) -> str:
    return f"/jobs/{job.pk}/results/0/part/?left={left}&top={top}&right={right}&bottom={bottom}"


def test_the_part_is_the_results_own_pixels(client):
    job, whole = finished_job(client)

    response = client.get(part_url(job, 10, 20, 110, 70))

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"]
    part = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert part.size == (100, 50)
    assert part.tobytes() == whole.crop((10, 20, 110, 70)).tobytes()


@pytest.mark.parametrize(("box", "words"), [
    ((0, 0, SIZE[0] + 1, 10), "outside the result, which is 300 × 200 px"),
    ((50, 0, 40, 10), "outside the result"),
    ((-1, 0, 10, 10), "outside the result"),
])
def test_a_part_outside_the_result_is_refused_in_plain_words(client, box, words):
    job, _ = finished_job(client)

    response = client.get(part_url(job, *box))

    assert response.status_code == 400 and words in response.content.decode()


def test_a_part_without_its_box_or_over_the_largest_side_is_refused(client, monkeypatch):
    job, _ = finished_job(client)
    assert client.get(f"/jobs/{job.pk}/results/0/part/?left=1&top=x").status_code == 400
    monkeypatch.setattr(options, "TILE_MAX_SIDE", 64)
    response = client.get(part_url(job, 0, 0, 65, 10))
    assert response.status_code == 400 and "at most 64 px on a side" in response.content.decode()


def test_another_visitor_gets_404(client):
    job, _ = finished_job(client)
    assert Client().get(part_url(job, 0, 0, 10, 10)).status_code == 404
    assert client.get(f"/jobs/{job.pk}/results/3/part/?left=0&top=0&right=10&bottom=10").status_code == 404
