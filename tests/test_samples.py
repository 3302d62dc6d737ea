"""Sample photos in a real browser: a person with no picture starts from one, and it takes exactly the
path of a chosen file (the page's checks, the upload, the server's checks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from inpaint.views import SAMPLE_PICTURES
from tests.studio import studio_factory, submit  # noqa: F401 (studio_factory: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SAMPLES = Path(__file__).resolve().parent.parent / "static" / "inpaint" / "samples"


def test_every_sample_ships_with_its_licence():
    licence = (SAMPLES / "LICENSE.txt").read_text()
    for sample in SAMPLE_PICTURES:
        assert (SAMPLES.parent.parent / sample["path"]).is_file() and (SAMPLES.parent.parent / sample["thumb"]).is_file()
        assert Path(sample["path"]).name in licence


def test_a_sample_becomes_the_picture_and_is_sent_as_an_upload(studio_factory, sent_steps):
    studio = studio_factory()
    page = studio.page
    page.get_by_test_id("sample-coffee").click()
    page.wait_for_selector("[data-editor][data-loaded]", state="attached")
    expect(page.get_by_test_id("picture-info")).to_contain_text("sample-coffee.jpg · 600 × 400 px")
    studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.6, 0.5)])
    job = submit(studio)
    assert (job.base_width, job.base_height) == (600, 400)
    with job.base_image.open("rb") as stored:  # an upright JPEG is stored as it was sent
        assert stored.read() == (SAMPLES / "coffee.jpg").read_bytes()
    assert InpaintJob.objects.count() == 1


def test_a_sample_that_cannot_be_fetched_says_so_in_plain_words(studio_factory):
    studio = studio_factory()
    page = studio.page
    # The connection drops as the sample is fetched (a phone leaving the room's Wi-Fi).
    page.route("**/static/inpaint/samples/**", lambda route: route.abort("internetdisconnected"))
    page.get_by_test_id("sample-coffee").click()
    expect(page.get_by_test_id("picture-message")).to_have_text(
        "The sample photo could not be loaded. Check your connection and try again, or choose a picture of your own.")
    expect(page.locator("[data-editor][data-loaded]")).to_have_count(0)
