"""Jobs from the editor in a real browser (Debian's chromium through Playwright): the server's refusal, a job's
results becoming the new base, the history, each engine's controls and output sizes, the CSP and login mode."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.browser import mask_array, painted_bounds
from tests.live import TEST_API_KEY, wait_for
from tests.studio import assert_capsule, stored_mask, studio_factory, submit  # noqa: F401 (studio_factory: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_empty_mask_shows_the_servers_message_and_the_editor_keeps_its_state(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    with page.expect_response(lambda response: response.request.method == "POST") as refused:
        page.get_by_test_id("generate").click()
    # The server, not the page, says where a refused form goes: into the form's place, not the job card's.
    assert refused.value.headers["hx-retarget"] == "#form-slot"
    assert refused.value.headers["hx-reswap"] == "innerHTML"
    errors = page.locator("#form-slot").get_by_test_id("form-errors")
    expect(errors).to_contain_text("paint the area you want to change")
    expect(page.locator("#current-job .empty")).to_be_visible()
    assert InpaintJob.objects.count() == 0

    # The swapped form did not touch the editor: paint now and the same picture goes out.
    studio.set_brush(16)
    points = [studio.screen_point(0.4, 0.5), studio.screen_point(0.6, 0.5)]
    start, end = (studio.image_point(p, (640, 480)) for p in points)
    studio.stroke(points)
    job = submit(studio)
    assert (job.base_width, job.base_height) == (640, 480)
    assert_capsule(stored_mask(job), start, end, 8)


def test_job_finishes_shows_results_and_a_result_becomes_the_new_base(
        studio_factory, live_server, dashscope, standin_settings, start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)
    studio = studio_factory()
    page = studio.page
    page.get_by_test_id("engine").select_option("wanx-x-painting")
    studio.upload_and_wait(pictures.picture(640, 480))

    prompt = page.get_by_test_id("prompt")
    prompt.fill("x" * 80)
    expect(page.get_by_test_id("prompt-counter")).to_have_text("80 / 75")
    expect(page.get_by_test_id("prompt-note")).to_contain_text("Too long")
    prompt.fill("a red kite")
    expect(page.get_by_test_id("prompt-counter")).to_have_text("10 / 75")
    page.get_by_test_id("n-2").check(force=True)
    studio.stroke([studio.screen_point(0.3, 0.3), studio.screen_point(0.6, 0.6)])
    job = submit(studio)
    assert job.prompt == "a red kite" and job.n == 2

    # The history refreshes itself when the server says the watched job has ended.
    with page.expect_request(lambda request: request.headers.get("hx-target") == "job-history", timeout=60_000):
        card = page.get_by_test_id("job-card")
        expect(card).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    results = page.get_by_test_id("result-image")
    expect(results).to_have_count(2)
    wait_for(lambda: results.first.evaluate("img => img.complete && img.naturalWidth > 0"), timeout=10)
    result_size = results.first.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    # True proportions: the before/after figure has the picture's shape, and the card says its size.
    box = page.locator(".compare").first.bounding_box()
    assert abs(box["width"] / box["height"] - 640 / 480) < 0.02
    expect(page.get_by_test_id("result-size").first).to_have_text("640 × 480 px")
    download = page.get_by_test_id("download").first
    expect(download).to_have_text("Download PNG")
    assert download.get_attribute("href").endswith("/results/0/?download")
    assert page.get_by_test_id("download-jpeg").first.get_attribute("href").endswith("/results/0/?download&format=jpeg")
    assert page.get_by_test_id("model-output").first.get_attribute("href").endswith("/results/0/model-output/")
    assert "?preview" in results.first.get_attribute("src")
    # The history catches up once the job has ended.
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    expect(page.get_by_test_id("history-item")).to_contain_text("Done")

    page.get_by_test_id("use-as-base").first.click()
    # The result has the picture's own size, so wait for its name, not its size.
    expect(page.get_by_test_id("picture-info")).to_have_text(
        f"inpaint-result-1.png · {result_size[0]} × {result_size[1]} px")
    # The server holds the result: the form names it instead of sending it back.
    assert page.get_by_test_id("upload").evaluate("input => input.files.length") == 0
    assert page.locator("#id_base_source").input_value() == f"result:{InpaintJob.objects.get().pk}:0"
    # The mask is cleared: not one pixel of the overlay is painted.
    assert studio.mask_painted() is False
    expect(page.get_by_test_id("undo")).to_be_disabled()

    # Deleting the job, once confirmed, takes its card and its tile in the history away.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete-job").click()
    expect(page.get_by_test_id("job-card")).to_have_count(0)
    expect(page.get_by_test_id("history-item")).to_have_count(0)
    assert not InpaintJob.objects.exists()


def test_a_transparent_picture_keeps_its_transparency_through_a_job_and_its_reuse(
        studio_factory, live_server, settings, start_worker):
    settings.DASHSCOPE_API_KEY = ""
    start_worker(DASHSCOPE_API_KEY="", DASHSCOPE_BASE_URL="http://127.0.0.1:9/unreachable")
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480, fmt="PNG", mode="RGBA"), "cut-out.png", "image/png")
    studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.7, 0.5)])
    first = submit(studio)
    expect(page.get_by_test_id("job-card")).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)

    page.get_by_test_id("clear").click()
    page.get_by_test_id("reuse-job").click()
    # The job's picture comes back first, then its mask.
    expect(page.get_by_test_id("picture-info")).to_contain_text(f"job-{str(first.pk)[:8]}.png")
    wait_for(studio.mask_painted, timeout=10, message="the job's mask to be back in the editor")
    page.get_by_test_id("generate").click()
    second = wait_for(lambda: InpaintJob.objects.exclude(pk=first.pk).first(), timeout=15, message="the second job")

    for job in (first, second):
        with job.base_alpha.open("rb") as alpha:
            assert mask_array(alpha.read())[40, 600] == 0  # the top-right quarter is transparent
    assert np.array_equal(stored_mask(second), stored_mask(first))


def test_a_job_deleted_from_the_history_takes_its_open_card_with_it(studio_factory, live_server, settings,
                                                                      start_worker):
    settings.DASHSCOPE_API_KEY = ""
    start_worker(DASHSCOPE_API_KEY="", DASHSCOPE_BASE_URL="http://127.0.0.1:9/unreachable")
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(320, 240), "photo.jpg", "image/jpeg")
    studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.7, 0.5)])
    for count in (1, 2):
        page.get_by_test_id("generate").click()
        job = wait_for(lambda count=count: InpaintJob.objects.count() == count and InpaintJob.objects.latest("created_at"),
                       timeout=15, message=f"job {count}")
        expect(page.locator(f"#job-{job.pk}")).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    first, second = InpaintJob.objects.order_by("created_at")
    tiles = page.get_by_test_id("history-item")
    expect(tiles).to_have_count(2)
    expect(tiles.get_by_test_id("history-delete")).to_have_count(2)

    # Open the first job's card from the history, then delete that job from its tile.
    tile = tiles.filter(has=page.locator(f'a[href$="/jobs/{first.pk}/"]'))
    tile.get_by_role("link").click()
    expect(page.locator(f"#job-{first.pk}")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    tile.get_by_test_id("history-delete").click()
    expect(tiles).to_have_count(1)
    expect(tiles.locator(f'a[href$="/jobs/{second.pk}/"]')).to_have_count(1)
    expect(page.get_by_test_id("job-card")).to_have_count(0)
    assert list(InpaintJob.objects.values_list("pk", flat=True)) == [second.pk]

    # Dismissing the question keeps the job.
    page.once("dialog", lambda dialog: dialog.dismiss())
    tiles.get_by_test_id("history-delete").click()
    expect(tiles).to_have_count(1)
    assert InpaintJob.objects.count() == 1


def noise_jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "JPEG", quality=90)
    return out.getvalue()


def canvas_still(studio):
    """A check that is true once the canvas has not moved since the last time it was asked."""
    last = []

    def still() -> bool:
        last.append(studio.canvas_box())
        return len(last) > 1 and last[-1] == last[-2]

    return still


def test_a_wide_result_over_the_upload_limit_becomes_the_new_base_and_is_painted_again(
        studio_factory, live_server, settings, start_worker):
    settings.DASHSCOPE_API_KEY = ""
    start_worker(DASHSCOPE_API_KEY="", DASHSCOPE_BASE_URL="http://127.0.0.1:9/unreachable")
    photo = noise_jpeg(4400, 400)  # wider than the editor's 4096 px: it paints on a proxy
    settings.INPAINT_MAX_UPLOAD_BYTES = 2 * len(photo)
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(photo, "wide.jpg", "image/jpeg")
    # The picture is wider than the window at the editor's zoom: strokes stay in its visible part.
    studio.stroke([studio.screen_point(0.05, 0.5), studio.screen_point(0.15, 0.5)])
    page.get_by_test_id("generate").click()
    first = wait_for(lambda: InpaintJob.objects.first(), timeout=15, message="the first job")
    expect(page.locator(f"#job-{first.pk}")).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    result = first.results.get()
    assert result.image.size > settings.INPAINT_MAX_UPLOAD_BYTES, "the lossless result is over the upload limit"

    page.get_by_test_id("use-as-base").click()
    expect(page.get_by_test_id("picture-info")).to_contain_text("inpaint-result-1.png · 4400 × 400 px · painted at 4096 ×")
    assert not studio.mask_painted()
    wait_for(canvas_still(studio), timeout=10, message="the page to stop scrolling to the editor")
    studio.stroke([studio.screen_point(0.25, 0.5), studio.screen_point(0.4, 0.5)])
    page.get_by_test_id("generate").click()
    second = wait_for(lambda: InpaintJob.objects.exclude(pk=first.pk).first(), timeout=15, message="the second job")
    expect(page.locator(f"#job-{second.pk}")).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    with result.image.open("rb") as finished, second.base_image.open("rb") as taken:
        assert pictures.open_image(taken.read()).tobytes() == pictures.open_image(finished.read()).tobytes()
    # The second stroke, painted on the proxy, landed where it was drawn on the full picture.
    left, _, right, _ = painted_bounds(stored_mask(second))
    assert 0.2 * 4400 < left < right < 0.45 * 4400


def test_each_engine_shows_only_the_controls_it_uses(studio_factory, settings):
    settings.DASHSCOPE_API_KEY = TEST_API_KEY
    studio = studio_factory()
    page = studio.page
    style = page.locator("[data-control=style]")
    page.get_by_test_id("engine").select_option("wanx2.1-imageedit")
    expect(style).to_be_hidden()  # this model has no styles
    page.get_by_test_id("engine").select_option("wanx-x-painting")
    expect(style).to_be_visible()
    expect(page.get_by_label("Context around the painted area")).to_have_value("normal")
    expect(page.get_by_label("Edge softness")).to_be_visible()


def sizes_offered(page) -> list[str]:
    return page.locator("#job-form [name=size] option").evaluate_all(
        "options => options.filter((o) => !o.hidden && !o.disabled).map((o) => o.textContent)")


def test_smaller_output_sizes_are_offered_only_for_large_pictures_and_the_choices_are_sent(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(2400, 1600))
    assert sizes_offered(page) == ["Original size", "Half size", "Quarter size"]
    page.locator("#job-form [name=size]").select_option("half")
    studio.upload_and_wait(pictures.picture(1600, 1200), "small.jpg")
    expect(page.get_by_test_id("picture-info")).to_contain_text("small.jpg")
    assert sizes_offered(page) == ["Original size"]
    expect(page.locator("#job-form [name=size]")).to_have_value("original")

    page.get_by_label("Context around the painted area").select_option("whole")
    page.get_by_label("Edge softness").fill("20")
    studio.stroke([studio.screen_point(0.4, 0.4), studio.screen_point(0.6, 0.6)])
    job = submit(studio)
    assert (job.size, job.context, job.edge_softness) == ("original", "whole", 20)


def test_a_csp_violation_fails_the_browser_tests(studio_factory):
    studio = studio_factory()
    studio.page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; "
                         "document.body.append(s); }")  # an inline script, refused by the policy
    studio.page.wait_for_timeout(300)
    assert any("Content Security Policy" in error for error in studio.errors)
    studio.errors.clear()


def test_login_mode_in_a_real_browser(browser, live_server, settings, django_user_model):
    settings.INPAINT_ACCESS = "login"
    django_user_model.objects.create_user("ada", password="a-long-password-1")
    page = browser.new_context().new_page()
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "ada")
    page.fill("#id_password", "a-long-password-1")
    page.click("[data-testid=sign-in-form] button[type=submit]")  # not the language switch
    page.wait_for_selector("[data-editor][data-ready]", state="attached")
    assert page.url.rstrip("/") == live_server.url
    page.context.close()
