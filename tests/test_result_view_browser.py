"""A result on the canvas in a real browser (issue 23): chosen from its card, it takes the picture's place at the
same zoom and pan with its own pixels; holding O shows the original at the same spot; the arrows step through
the variants; H hides the mask; and over another picture, the job's own picture comes back first."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import TEST_API_KEY, wait_for
from tests.studio import studio_factory, submit  # noqa: F401 (studio_factory: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIZE = (640, 480)
SPOT = (400, 300)  # inside the painted stroke, where the result differs from the picture
# The result shown, drawn at its own size into a canvas, read back at a picture pixel.
PIXEL_READ = """(img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  return [...ctx.getImageData(%d, %d, 1, 1).data.slice(0, 3)];
}""" % SPOT


def view_transform(page) -> str:
    return page.locator("[data-view]").evaluate("view => view.style.transform")


def shown_pixel(page) -> list[int]:
    result = page.get_by_test_id("canvas-result")
    wait_for(lambda: result.evaluate("img => img.complete && img.naturalWidth > 0"), timeout=10)
    return result.evaluate(PIXEL_READ)


def stored_pixel(job: InpaintJob, slot: int) -> list[int]:
    with job.results.get(slot=slot).image.open("rb") as stored:
        return list(Image.open(io.BytesIO(stored.read())).convert("RGB").getpixel(SPOT))


def test_a_result_is_judged_on_the_canvas_at_the_same_spot(studio_factory, live_server, dashscope, standin_settings,
                                                            start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)
    studio = studio_factory()
    page = studio.page
    page.get_by_test_id("engine").select_option("wanx-x-painting")
    studio.upload_and_wait(pictures.picture(*SIZE))
    page.get_by_test_id("prompt").fill("a red kite")
    page.get_by_test_id("n-2").check(force=True)
    studio.stroke([studio.screen_point(0.45, 0.45), studio.screen_point(0.75, 0.75)])
    job = submit(studio)
    expect(page.get_by_test_id("job-card")).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)

    # Zoomed in near 400 % first: the result must come up at this very zoom and pan.
    page.get_by_test_id("canvas").hover()
    for key in ["1", *["+"] * 6]:
        page.keyboard.press(key)
    zoomed = view_transform(page)
    assert int(page.locator("[data-editor]").get_attribute("data-zoom")) > 350
    page.get_by_test_id("show-on-canvas").first.click()
    result = page.get_by_test_id("canvas-result")
    expect(result).to_be_visible()
    expect(page.get_by_test_id("result-bar")).to_contain_text("Result 1 of 2 on the canvas")
    expect(result).to_have_attribute("alt", "Result 1 for “a red kite”")
    assert result.evaluate("img => [img.naturalWidth, img.naturalHeight]") == list(SIZE)  # its own pixels, not a proxy
    assert shown_pixel(page) == stored_pixel(job, 0)
    assert view_transform(page) == zoomed

    # Held O: the original at the same spot; let go: the result again.
    page.keyboard.down("o")
    expect(result).to_be_hidden()
    assert view_transform(page) == zoomed
    page.keyboard.up("o")
    expect(result).to_be_visible()
    # The bar's button does the same for a pointer.
    hold = page.get_by_test_id("original-hold").bounding_box()
    page.mouse.move(hold["x"] + hold["width"] / 2, hold["y"] + hold["height"] / 2)
    page.mouse.down()
    expect(result).to_be_hidden()
    page.mouse.up()
    expect(result).to_be_visible()

    # The arrows step through the variants, at the same spot.
    page.get_by_test_id("canvas").hover()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("result-bar")).to_contain_text("Result 2 of 2 on the canvas")
    expect(result).to_have_attribute("src", f"/jobs/{job.pk}/results/1/")
    assert shown_pixel(page) == stored_pixel(job, 1)
    assert page.get_by_test_id("result-bar-download").get_attribute("href") == f"/jobs/{job.pk}/results/1/?download"
    page.keyboard.press("ArrowLeft")
    expect(result).to_have_attribute("src", f"/jobs/{job.pk}/results/0/")
    assert view_transform(page) == zoomed
    # Where the mask was: H hides and shows it over the result.
    mask_opacity = "c => getComputedStyle(c).opacity"
    page.keyboard.press("h")
    assert page.get_by_test_id("canvas").evaluate(mask_opacity) == "0"
    page.keyboard.press("h")
    assert page.get_by_test_id("canvas").evaluate(mask_opacity) != "0"

    page.get_by_test_id("result-close").click()
    expect(result).to_be_hidden()
    expect(page.get_by_test_id("result-bar")).to_be_hidden()

    # Over another picture the result is not laid: the job's own picture and mask come back first.
    studio.upload_and_wait(pictures.picture(800, 600), name="other.jpg")
    page.get_by_test_id("show-on-canvas").nth(1).click()
    expect(page.get_by_test_id("picture-info")).to_have_text(f"job-{str(job.pk)[:8]}.png · 640 × 480 px")
    expect(result).to_be_visible()
    assert studio.mask_painted()
    assert shown_pixel(page) == stored_pixel(job, 1)
