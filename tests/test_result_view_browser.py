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
def pixel_read(x: int, y: int) -> str:
    """A script that draws an <img> at its own size into a canvas and reads its pixel (x, y) back."""
    return f"""(img) => {{
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  return [...ctx.getImageData({x}, {y}, 1, 1).data.slice(0, 3)];
}}"""


def cloud_studio(studio_factory, live_server, dashscope, standin_settings, start_worker):
    """The studio with a worker on the stand-in as wanx-x-painting, chosen in the form."""
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)
    studio = studio_factory()
    studio.page.get_by_test_id("engine").select_option("wanx-x-painting")
    return studio


def view_transform(page) -> str:
    return page.locator("[data-view]").evaluate("view => view.style.transform")


def shown_pixel(page) -> list[int]:
    result = page.get_by_test_id("canvas-result")
    wait_for(lambda: result.evaluate("img => img.complete && img.naturalWidth > 0"), timeout=10)
    return result.evaluate(pixel_read(*SPOT))


def stored_pixel(job: InpaintJob, slot: int, spot: tuple[int, int] = SPOT) -> list[int]:
    with job.results.get(slot=slot).image.open("rb") as stored:
        return list(Image.open(io.BytesIO(stored.read())).convert("RGB").getpixel(spot))


def test_a_result_is_judged_on_the_canvas_at_the_same_spot(studio_factory, live_server, dashscope, standin_settings,
                                                            start_worker):
    studio = cloud_studio(studio_factory, live_server, dashscope, standin_settings, start_worker)
    page = studio.page
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


def test_a_24_mp_result_at_400_percent_shows_its_own_pixels_without_the_whole_file(
        studio_factory, live_server, dashscope, standin_settings, start_worker, tmp_path):
    studio = cloud_studio(studio_factory, live_server, dashscope, standin_settings, start_worker)
    page = studio.page
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(pictures.picture(6000, 4000))
    page.get_by_test_id("upload").set_input_files(photo)
    expect(page.get_by_test_id("picture-info")).to_contain_text("painted at 4096 × 2731")
    page.get_by_test_id("prompt").fill("a red kite")
    studio.stroke([studio.screen_point(0.4, 0.4), studio.screen_point(0.6, 0.6)])
    job = submit(studio)
    expect(page.get_by_test_id("job-card")).to_have_attribute("data-status", "SUCCEEDED", timeout=90_000)

    page.get_by_test_id("show-on-canvas").click()
    result = page.get_by_test_id("canvas-result")
    expect(result).to_be_visible()
    assert result.get_attribute("src").endswith("/results/0/editor/")  # the proxy at the fit zoom
    page.mouse.move(*studio.screen_point(0.5, 0.5))
    for key in ["1", *["+"] * 9]:
        page.keyboard.press(key)
    zoom = int(page.locator("[data-editor]").get_attribute("data-zoom"))
    assert zoom * 4096 / 6000 > 350, zoom  # over 350 % of the result's own pixels
    part = page.get_by_test_id("canvas-result-part")
    expect(part).to_be_visible()
    left, top, right, bottom = (int(value) for value in part.get_attribute("data-box").split(":")[-1].split(","))
    assert part.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [right - left, bottom - top]
    assert (right - left) * (bottom - top) < 6000 * 4000 / 50, "far more than the screen shows was sent"
    spot = ((right - left) // 2, (bottom - top) // 2)
    assert part.evaluate(pixel_read(*spot)) == stored_pixel(job, 0, (left + spot[0], top + spot[1]))
    # Its place on the canvas: the part covers exactly the box it was cut from, in the proxy's pixels.
    factor = 6000 / 4096
    placed = part.evaluate("img => [img.style.left, img.style.top, img.style.width].map(parseFloat)")
    assert all(abs(got - want) < 0.01 for got, want in zip(placed, (left / factor, top / factor, (right - left) / factor)))

    page.keyboard.down("o")
    expect(part).to_be_hidden()
    page.keyboard.up("o")
    expect(part).to_be_visible()
    page.keyboard.press("0")  # the fit zoom: the proxy alone again
    expect(part).to_be_hidden()
