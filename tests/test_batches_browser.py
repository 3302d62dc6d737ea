"""A batch in a real browser (issue 21 §4), through the real parts (the web server, a Celery worker on the suite's
broker, the offline engine): twelve photos chosen at once, the mask painted once on the first, one card for the
batch, and a ZIP that holds the twelve results at their photos' own sizes."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import expect

from inpaint.models import Batch, InpaintJob
from tests import pictures
from tests.live import wait_for
from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHOTOS = 12


def photo_files() -> list[dict]:
    """Twelve photos, one of them standing (another shape than the first), named out of order."""
    sizes = [(320, 240)] * (PHOTOS - 1) + [(240, 320)]
    return [{"name": f"photo-{index + 1}.jpg", "mimeType": "image/jpeg", "buffer": pictures.picture(*size)}
            for index, size in reversed(list(enumerate(sizes)))]


def test_twelve_photos_with_one_mask_come_back_as_one_zip(studio_factory, live_server, start_worker):
    start_worker()
    studio = studio_factory()
    page = studio.page
    page.get_by_test_id("batch-files").set_input_files(photo_files())
    page.wait_for_selector("[data-editor][data-loaded]", state="attached")
    expect(page.get_by_test_id("picture-info")).to_contain_text("photo-1.jpg")  # the first by name
    plan = page.get_by_test_id("batch-plan")
    expect(plan).to_contain_text("11 photos in this batch")
    expect(page.get_by_test_id("batch-panel")).to_contain_text("1 photo has another shape than the first: photo-12.jpg")
    page.get_by_test_id("other-shapes-relative").check()
    expect(plan).to_contain_text("12 photos in this batch")

    studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.7, 0.5)])
    page.get_by_test_id("generate").click()
    card = page.get_by_test_id("batch-card")
    expect(card).to_be_visible()
    expect(page.get_by_test_id("batch-sending")).to_have_text("Every photo of the batch has been sent.",
                                                              timeout=60_000)
    expect(card).to_have_attribute("data-finished", "true", timeout=120_000)
    expect(page.get_by_test_id("batch-summary")).to_have_text(f"{PHOTOS} of {PHOTOS} done")

    batch = Batch.objects.get()
    jobs = InpaintJob.objects.filter(batch=batch)
    assert jobs.count() == PHOTOS and {job.status for job in jobs} == {InpaintJob.Status.SUCCEEDED}
    first = jobs.get(source_name="photo-1.jpg")
    with first.mask_image.open("rb") as stored:
        painted = pictures.open_image(stored.read()).getbbox()
    assert painted and painted[0] < 160 < painted[2]  # the stroke, across the middle

    with page.expect_download() as download_info:
        page.get_by_test_id("batch-download").click()
    download = download_info.value
    assert download.suggested_filename == f"inpaint-batch-{str(batch.pk)[:8]}.zip"
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
    names = sorted(archive.namelist())
    assert names == sorted(f"photo-{index + 1}.png" for index in range(PHOTOS))
    sizes = {name: pictures.open_image(archive.read(name)).size for name in names}
    assert sizes.pop("photo-12.png") == (240, 320) and set(sizes.values()) == {(320, 240)}
