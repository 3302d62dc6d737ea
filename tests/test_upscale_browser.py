"""Upscaling in a real browser (issue 20 §3), through the real parts (the web server, a Celery worker on the suite's
broker, the DashScope stand-in): the factor's choice says the finished size and the images billed before Generate,
and a finished result's "Upscale ×2" makes the next job in one click, from the result at its own pixels."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import cloud_worker, wait_succeeded
from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_picture_is_upscaled_from_the_form_and_its_result_again_from_its_card_in_one_click(
        studio_factory, live_server, dashscope, standin_settings, start_worker):
    cloud_worker(start_worker, dashscope, live_server, beat=False)
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    page.get_by_test_id("engine").select_option("wanx2.1-imageedit")
    expect(page.get_by_test_id("upscale-controls")).to_be_hidden()  # only for its own function
    page.get_by_test_id("function-super_resolution").check()
    expect(page.get_by_test_id("upscale-controls")).to_be_visible()
    expect(page.locator("#job-form [data-control=context]")).to_be_hidden()  # the whole picture goes
    expect(page.get_by_test_id("upscale-size")).to_have_text(
        "The upscaled picture: 1280 × 960 pixels; 1 image is billed.")
    page.get_by_test_id("upscale-4").check()
    expect(page.get_by_test_id("upscale-size")).to_contain_text("2560 × 1920 pixels")
    page.get_by_test_id("upscale-2").check()
    page.get_by_test_id("generate").click()  # no mask painted and no words written: none is needed
    expect(page.get_by_test_id("form-errors")).to_have_count(0)
    expect(page.get_by_test_id("job-card")).to_be_visible()

    first = wait_succeeded(InpaintJob.objects.get())
    assert (first.function, first.upscale_factor) == ("super_resolution", 2)
    card = page.locator(f"#job-{first.pk}")
    expect(card.get_by_test_id("result-size")).to_have_text("1280 × 960 px")

    card.get_by_test_id("upscale-result-2").click()
    expect(page.locator("[data-job]").first).not_to_have_id(f"job-{first.pk}")
    second = wait_succeeded(InpaintJob.objects.exclude(pk=first.pk).get())
    assert (second.function, second.upscale_factor, second.base_width, second.base_height) == (
        "super_resolution", 2, 1280, 960)  # the result itself, at its own pixels, not a proxy or a preview
    [result] = second.results.all()
    assert (result.width, result.height) == (2560, 1920)
    expect(page.locator(f"#job-{second.pk}").get_by_test_id("result-size")).to_have_text("2560 × 1920 px")
