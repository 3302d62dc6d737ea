"""The studio page in a real browser (Debian's chromium through Playwright): the mask drawn on screen is
the mask the server stores, at the picture's own pixels, whatever the zoom, shape, rotation or pixel ratio."""

from __future__ import annotations

import base64
import io
import math
import os

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.browser import mask_array, open_studio, painted_bounds, renderer_memory
from tests.live import TEST_API_KEY, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain blocking calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

BRUSH = 12  # picture pixels
TOLERANCE = 2  # picture pixels


@pytest.fixture
def studio_factory(browser, live_server):
    studios = []

    def make(**context_options):
        studio = open_studio(browser, live_server.url, **context_options)
        studios.append(studio)
        return studio

    yield make
    for studio in studios:
        # No file from another host, ever (fonts, scripts, CDNs), no script errors and no CSP violation.
        assert studio.foreign_requests() == []
        assert studio.errors == []
        studio.page.context.close()


def submit(studio) -> InpaintJob:
    studio.page.get_by_test_id("generate").click()
    expect(studio.page.get_by_test_id("job-card")).to_be_visible()
    return InpaintJob.objects.get()


def stored_mask(job: InpaintJob) -> np.ndarray:
    with job.mask_image.open("rb") as stored:
        return mask_array(stored.read())


def assert_capsule(mask: np.ndarray, start, end, radius: float) -> None:
    """The painted pixels are the brush stroke from start to end (picture coordinates), to within 2 px."""
    left, top, right, bottom = painted_bounds(mask)
    expected = (min(start[0], end[0]) - radius, min(start[1], end[1]) - radius,
                max(start[0], end[0]) + radius - 1, max(start[1], end[1]) + radius - 1)
    assert all(abs(got - want) <= TOLERANCE for got, want in zip((left, top, right, bottom), expected)), \
        (f"painted box {left, top, right, bottom} but the stroke covers {tuple(round(v, 1) for v in expected)}")
    area = 2 * radius * math.dist(start, end) + math.pi * radius ** 2
    assert abs((mask >= 128).sum() / area - 1) < 0.12
    for t in (0, 0.5, 1):
        x, y = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
        assert mask[int(y), int(x)] == 255


VIEWS = {
    "landscape": dict(picture=dict(width=640, height=480), upright=(640, 480)),
    "portrait-exif-6": dict(picture=dict(width=640, height=480, orientation=6), upright=(480, 640)),
    "ultrawide-3-to-1": dict(picture=dict(width=1500, height=500), upright=(1500, 500)),
}


@pytest.mark.parametrize(("shape", "zoom", "scale_factor"), [
    ("landscape", 1, 1),
    ("portrait-exif-6", 1, 1),
    ("ultrawide-3-to-1", 1, 1),
    ("landscape", 1.5, 1),
    ("portrait-exif-6", 1.5, 2),
    ("ultrawide-3-to-1", 1, 2),
    ("ultrawide-3-to-1", 1.5, 1),
])
def test_stroke_lands_on_the_matching_picture_pixels(studio_factory, shape, zoom, scale_factor):
    case = VIEWS[shape]
    studio = studio_factory(device_scale_factor=scale_factor)
    if zoom != 1:
        studio.page.evaluate("zoom => { document.documentElement.style.zoom = String(zoom); }", zoom)
    studio.upload_and_wait(pictures.picture(**case["picture"]))
    width, height = case["upright"]
    expect(studio.page.get_by_test_id("picture-info")).to_contain_text(f"{width} × {height} px")
    studio.set_brush(BRUSH)

    points = [studio.screen_point(0.23, 0.31), studio.screen_point(0.71, 0.64)]
    # Expected picture pixels come from Playwright's box of the canvas, before submitting scrolls the page.
    start, end = (studio.image_point(point, (width, height)) for point in points)
    studio.stroke(points)
    job = submit(studio)

    assert (job.base_width, job.base_height) == (width, height)
    mask = stored_mask(job)
    assert mask.shape == (height, width)
    assert_capsule(mask, start, end, BRUSH / 2)


def test_eraser_undo_and_redo_change_the_sent_mask(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    studio.set_brush(20)
    size = (640, 480)
    kept = [studio.screen_point(0.1, 0.2), studio.screen_point(0.9, 0.2)]
    undone = [studio.screen_point(0.1, 0.8), studio.screen_point(0.9, 0.8)]
    studio.stroke(kept)
    studio.stroke(undone)
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+Shift+z")  # redo brings it back
    page.get_by_test_id("undo").click()  # and this takes it away for good

    page.keyboard.press("e")
    expect(page.get_by_test_id("eraser")).to_have_attribute("aria-pressed", "true")
    studio.set_brush(40)
    erased = [studio.screen_point(0.5, 0.1), studio.screen_point(0.5, 0.3)]
    studio.stroke(erased)
    left, right = (studio.image_point(p, size) for p in kept)
    row = int(left[1])
    gap_x = int(studio.image_point(erased[0], size)[0])
    undone_row = int(studio.image_point(undone[0], size)[1])
    job = submit(studio)

    mask = stored_mask(job)
    assert mask[row, int(left[0]) + 15] == 255 and mask[row, int(right[0]) - 15] == 255
    assert mask[row, gap_x] == 0 and mask[row, gap_x - 15] == 0 and mask[row, gap_x + 15] == 0
    assert mask[row, gap_x - 30] == 255 and mask[row, gap_x + 30] == 255
    assert mask[undone_row, 320] == 0
    assert (mask[int(size[1] * 0.6):] == 0).all()


def polygon_area(points) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))) / 2


def test_lasso_fills_the_outline_and_alt_lasso_erases(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    size = (640, 480)
    page.keyboard.press("l")
    expect(page.get_by_test_id("lasso")).to_have_attribute("aria-pressed", "true")
    triangle = [studio.screen_point(0.2, 0.15), studio.screen_point(0.85, 0.2), studio.screen_point(0.5, 0.85)]
    studio.stroke(triangle)
    expect(page.locator("[data-lasso-preview]")).to_be_hidden()
    # Alt + lasso around a small square inside the triangle takes it out again.
    hole = [studio.screen_point(0.45, 0.35), studio.screen_point(0.55, 0.35), studio.screen_point(0.55, 0.45),
            studio.screen_point(0.45, 0.45)]
    page.keyboard.down("Alt")
    studio.stroke(hole)
    page.keyboard.up("Alt")
    corners = [studio.image_point(p, size) for p in triangle]
    hole_corners = [studio.image_point(p, size) for p in hole]
    job = submit(studio)

    mask = stored_mask(job)
    expected = polygon_area(corners) - polygon_area(hole_corners)
    assert abs((mask >= 128).sum() / expected - 1) < 0.03
    centre_of_hole = [int(sum(c) / 4) for c in zip(*hole_corners)]
    assert mask[centre_of_hole[1], centre_of_hole[0]] == 0
    inside = (int((corners[0][0] + corners[1][0] + corners[2][0]) / 3), int(corners[2][1] - 40))
    assert mask[inside[1], inside[0]] == 255
    assert mask[int(size[1] * 0.95), int(size[0] * 0.05)] == 0


def draw_rectangle(studio, size) -> tuple[int, int, int, int]:
    """A rectangle from 30 % to 60 % of the canvas; its (left, top, right, bottom) picture pixels."""
    studio.page.keyboard.press("r")
    corners = [studio.screen_point(0.3, 0.3), studio.screen_point(0.6, 0.6)]
    studio.stroke(corners)
    (left, top), (right, bottom) = (studio.image_point(p, size) for p in corners)
    return round(left), round(top), round(right) - 1, round(bottom) - 1


def assert_bounds(mask, expected) -> None:
    assert all(abs(got - want) <= 1 for got, want in zip(painted_bounds(mask), expected)), \
        (painted_bounds(mask), expected)


def test_grow_rounds_the_mask_out_and_undo_takes_back_a_shrink(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    left, top, right, bottom = draw_rectangle(studio, (640, 480))
    page.get_by_test_id("grow-mask").click()  # 1 % of 480 px: 5 px
    page.keyboard.press("g")
    page.keyboard.press("Shift+g")
    page.get_by_test_id("shrink-mask").click()
    for _ in range(2):
        page.keyboard.press("Control+z")  # both shrinks undone: grown by 10 px
    mask = stored_mask(submit(studio))

    assert_bounds(mask, (left - 10, top - 10, right + 10, bottom + 10))
    middle = (top + bottom) // 2
    assert mask[middle, left - 9] == 255 and mask[middle, left - 12] == 0
    assert mask[top - 8, left - 8] == 0  # 11 px from the corner: the grown corner is round
    assert mask[top - 6, left - 6] == 255  # 8.5 px from it


def test_shrink_takes_the_edge_in_all_round(studio_factory):
    studio = studio_factory()
    studio.upload_and_wait(pictures.picture(640, 480))
    left, top, right, bottom = draw_rectangle(studio, (640, 480))
    studio.page.keyboard.press("Shift+g")
    mask = stored_mask(submit(studio))

    assert_bounds(mask, (left + 5, top + 5, right - 5, bottom - 5))
    assert (mask >= 128).sum() == (right - left - 9) * (bottom - top - 9)


def test_shortcuts_are_off_while_typing(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    page.get_by_test_id("eraser").click()
    page.get_by_test_id("brush-size").fill("30")
    # The offline engine ignores the prompt, so its box is disabled; any enabled text box will do.
    page.locator("[data-mask-file-panel] summary").click()
    colours = page.get_by_test_id("mask-colours")
    colours.click()
    page.keyboard.type("b[[r")
    expect(page.get_by_test_id("eraser")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("brush-size")).to_have_value("30")


def test_too_small_picture_is_refused_in_plain_words_before_upload(studio_factory):
    studio = studio_factory()
    studio.upload(pictures.picture(200, 20))
    message = studio.page.get_by_test_id("picture-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("This picture is 200 × 20 pixels; each side must be at least 32 pixels.")
    assert studio.page.get_by_test_id("upload").evaluate("input => input.files.length") == 0
    assert InpaintJob.objects.count() == 0


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


def test_coloured_mask_file_previews_and_is_sent_as_the_editor_shows_it(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    page.locator("[data-mask-file-panel] summary").click()
    page.get_by_test_id("mask-colours").fill("[[0, 0, 0]]")
    # Half size, same shape: scaled nearest-neighbour. Black marks the area; luminance would pick the rest.
    coloured = pictures.mask(320, 240, box=(40, 60, 119, 139), mode="RGB", fill=(0, 0, 0), background=(255, 255, 255))
    page.get_by_test_id("mask-upload").set_input_files({"name": "mask.png", "mimeType": "image/png", "buffer": coloured})
    expect(page.get_by_test_id("mask-message")).to_contain_text("will be repainted")
    job = submit(studio)
    mask = stored_mask(job)
    assert painted_bounds(mask) == (80, 120, 239, 279)
    assert (mask[120:280, 80:240] == 255).all()


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


def test_stroke_stays_under_the_cursor_after_wheel_zoom_and_space_pan(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(1200, 900))
    centre = studio.screen_point(0.5, 0.5)
    zoom_before = int(page.locator("[data-editor]").get_attribute("data-zoom"))
    page.mouse.move(*centre)
    page.mouse.wheel(0, -400)
    wait_for(lambda: int(page.locator("[data-editor]").get_attribute("data-zoom")) > zoom_before * 1.5, timeout=5)
    page.keyboard.down(" ")
    studio.stroke([centre, (centre[0] - 60, centre[1] - 40)])  # a pan, not paint
    page.keyboard.up(" ")
    studio.set_brush(10)
    points = [(centre[0] - 100, centre[1] - 50), (centre[0] + 80, centre[1] + 30)]
    start, end = (studio.image_point(p, (1200, 900)) for p in points)
    studio.stroke(points)
    job = submit(studio)
    assert_capsule(stored_mask(job), start, end, 5)


def touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [{"x": x, "y": y, "id": i, "radiusX": 2, "radiusY": 2} for i, (x, y) in enumerate(points)]})


def pen_stroke(cdp, start, end, force: float) -> None:
    """A pen pressed with ``force`` (0 to 1) from start to end, in screen points."""
    def send(kind, point, buttons):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": point[0], "y": point[1], "button": "left",
                                              "buttons": buttons, "clickCount": 1, "pointerType": "pen", "force": force})
    send("mousePressed", start, 1)
    for t in range(1, 11):
        send("mouseMoved", (start[0] + (end[0] - start[0]) * t / 10, start[1] + (end[1] - start[1]) * t / 10), 1)
    send("mouseReleased", end, 0)


def test_pen_pressure_sets_the_stroke_width(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    studio.set_brush(40)
    cdp = page.context.new_cdp_session(page)
    pen_stroke(cdp, studio.screen_point(0.2, 0.3), studio.screen_point(0.8, 0.3), force=1.0)
    pen_stroke(cdp, studio.screen_point(0.2, 0.7), studio.screen_point(0.8, 0.7), force=0.25)
    mask = stored_mask(submit(studio))

    column = mask[:, 320] >= 128
    firm, light = column[: 240].sum(), column[240:].sum()
    assert abs(firm - 40) <= 3, firm
    assert abs(light - 10) <= 3, light


def test_one_finger_draws_and_two_fingers_zoom_without_painting(studio_factory):
    studio = studio_factory(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    studio.set_brush(14)
    cdp = page.context.new_cdp_session(page)
    a, b = studio.screen_point(0.2, 0.5), studio.screen_point(0.8, 0.5)
    start, end = (studio.image_point(p, (640, 480)) for p in (a, b))
    touch(cdp, "touchStart", [a])
    for t in range(1, 11):
        touch(cdp, "touchMove", [(a[0] + (b[0] - a[0]) * t / 10, a[1])])
    touch(cdp, "touchEnd", [])
    zoom_before = page.locator("[data-editor]").get_attribute("data-zoom")

    p, q = studio.screen_point(0.4, 0.2), studio.screen_point(0.6, 0.3)
    touch(cdp, "touchStart", [p, q])
    for t in range(1, 8):
        touch(cdp, "touchMove", [(p[0] - 6 * t, p[1] - 3 * t), (q[0] + 6 * t, q[1] + 3 * t)])
    touch(cdp, "touchEnd", [])
    assert page.locator("[data-editor]").get_attribute("data-zoom") != zoom_before
    page.get_by_test_id("fit").click()

    job = submit(studio)
    assert_capsule(stored_mask(job), start, end, 7)


DELIVER_PICTURE = """
([kind, base64]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
  if (kind === "drop") {
    const target = document.querySelector('[data-testid="canvas"]');
    target.dispatchEvent(new DragEvent("dragenter", {bubbles: true, cancelable: true, dataTransfer: transfer}));
    target.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: transfer}));
    target.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: transfer}));
  } else {
    document.body.dispatchEvent(new ClipboardEvent("paste", {bubbles: true, cancelable: true, clipboardData: transfer}));
  }
}
"""


@pytest.mark.parametrize("kind", ["drop", "paste"])
def test_picture_arrives_by_drag_and_drop_and_by_paste(studio_factory, kind):
    studio = studio_factory()
    encoded = base64.b64encode(pictures.picture(1000, 500, fmt="PNG")).decode()
    studio.page.evaluate(DELIVER_PICTURE, [kind, encoded])

    studio.page.wait_for_selector("[data-editor][data-loaded]", state="attached")
    expect(studio.page.get_by_test_id("picture-info")).to_contain_text("1000 × 500")
    box = studio.canvas_box()
    studio.stroke([(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5),
                   (box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)])
    job = submit(studio)
    with job.base_image.open("rb") as stored:
        assert pictures.open_image(stored.read()).size == (1000, 500)
    assert stored_mask(job).any()


def test_the_shortcut_list_and_the_tooltips_are_made_from_the_key_table(studio_factory):
    studio = studio_factory()
    page = studio.page
    page.locator("body").press("?")
    shortcuts = page.locator("[data-shortcuts]")
    expect(shortcuts).to_have_attribute("open", "")
    entries = page.evaluate("""async () => {
      const url = new URL("shortcuts.js", document.querySelector("script[src*='studio.js']").src);
      return (await import(url)).SHORTCUTS.length;
    }""")
    expect(shortcuts.locator("dt")).to_have_count(entries)
    expect(shortcuts.locator("dd").nth(10)).to_have_text("Shrink the mask by 1 % of the picture")
    expect(shortcuts.locator("dt").nth(10)).to_have_text("Shift+G")
    assert shortcuts.locator("dt").nth(10).locator("kbd").count() == 2
    expect(page.get_by_test_id("redo")).to_have_attribute("title", "Redo (Shift+Ctrl+Z or Ctrl+Y)")
    expect(page.get_by_test_id("brush")).to_have_attribute("title", "Brush (B)")


@pytest.fixture(scope="module")
def photo_48mp() -> bytes:
    """An 8064 × 6048 JPEG like a phone's 48 MP photo: gradients and noise, about 9 MB, made once."""
    width, height = 8064, 6048
    across = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    buffer = io.BytesIO()
    Image.merge("RGB", (across, across.transpose(Image.Transpose.ROTATE_180), noise)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_a_48_mp_photo_is_painted_on_a_proxy_and_the_stroke_lands_on_its_full_size_pixels(
        studio_factory, browser, photo_48mp, tmp_path):
    studio = studio_factory()
    page = studio.page
    # From a file on disk, as a person picks it: a buffer would be copied into the page's memory.
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_48mp)
    before = renderer_memory(browser)
    page.get_by_test_id("upload").set_input_files(photo)
    page.wait_for_selector("[data-editor][data-loaded]", state="attached")
    expect(page.get_by_test_id("picture-info")).to_have_text("photo.jpg · 8064 × 6048 px · painted at 4096 × 3072")
    assert any(url.endswith("/picture-preview/") for url in studio.requests)
    assert page.get_by_test_id("canvas").evaluate("c => [c.width, c.height]") == [4096, 3072]
    studio.set_brush(24)  # proxy pixels: 47 picture pixels

    points = [studio.screen_point(0.2, 0.3), studio.screen_point(0.75, 0.6)]
    start, end = (studio.image_point(point, (8064, 6048)) for point in points)
    studio.stroke(points)
    with page.expect_download() as download:
        page.get_by_test_id("download-mask").click()  # the export that Generate sends, at the proxy's size
    assert mask_array(download.value.path().read_bytes()).shape == (3072, 4096)
    # What the editor cost the page (load, paint, export): its renderer's peak over what it held before.
    after = renderer_memory(browser)
    growth, pid = max((peak - before.get(pid, (0, 0))[0], pid) for pid, (_, peak) in after.items())
    print(f"48 MP photo: renderer peak {after[pid][1]:.0f} MB, {growth:.0f} MB over the page before it")
    job = submit(studio)
    # The new job's tile in the history does not load the full photo while its preview is not made yet.
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    assert not any("/picture/" in url for url in studio.requests)

    assert (job.base_width, job.base_height) == (8064, 6048)
    mask = stored_mask(job)
    assert mask.shape == (6048, 8064)
    radius = 24 * 8064 / 4096 / 2
    expected = (min(start[0], end[0]) - radius, min(start[1], end[1]) - radius,
                max(start[0], end[0]) + radius, max(start[1], end[1]) + radius)
    # Within 0.2 % of the side: the proxy's own pixel is two picture pixels.
    tolerance = (0.002 * 8064, 0.002 * 6048) * 2
    assert all(abs(got - want) <= tol for got, want, tol in zip(painted_bounds(mask), expected, tolerance)), \
        (painted_bounds(mask), expected)
    for t in (0, 0.5, 1):
        assert mask[int(start[1] + t * (end[1] - start[1])), int(start[0] + t * (end[0] - start[0]))] == 255
    assert growth < 300


def test_a_heic_photo_opens_through_the_servers_proxy_and_is_sent_as_it_is(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480, fmt="HEIF"), "photo.heic", "image/heic")
    expect(page.get_by_test_id("picture-info")).to_have_text("photo.heic · 640 × 480 px")
    assert any(url.endswith("/picture-preview/") for url in studio.requests)
    # The red square at the top-left shows the proxy is the picture, upright.
    red, green, _ = page.locator("[data-picture]").evaluate("""img => {
      const canvas = Object.assign(document.createElement("canvas"), {width: img.naturalWidth, height: img.naturalHeight});
      const context = canvas.getContext("2d");
      context.drawImage(img, 0, 0);
      return Array.from(context.getImageData(20, 20, 1, 1).data.slice(0, 3));
    }""")
    assert red > 180 and green < 90
    studio.set_brush(BRUSH)
    points = [studio.screen_point(0.3, 0.4), studio.screen_point(0.6, 0.5)]
    start, end = (studio.image_point(point, (640, 480)) for point in points)
    studio.stroke(points)
    job = submit(studio)

    assert (job.base_width, job.base_height) == (640, 480)
    assert_capsule(stored_mask(job), start, end, BRUSH / 2)


def test_each_engine_shows_only_the_controls_it_uses(studio_factory, settings):
    settings.DASHSCOPE_API_KEY = TEST_API_KEY
    studio = studio_factory()
    page = studio.page
    style = page.locator("[data-style-field]")
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
    page.click("button[type=submit]")
    page.wait_for_selector("[data-editor][data-ready]", state="attached")
    assert page.url.rstrip("/") == live_server.url
    page.context.close()
