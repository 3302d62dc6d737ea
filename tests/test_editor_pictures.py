"""Pictures arriving in the editor in a real browser (Debian's chromium through Playwright): refused in plain
words before upload, a coloured mask file, drag and drop and paste, a 48 MP photo on a proxy and a HEIC photo."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.browser import mask_array, painted_bounds, renderer_memory
from tests.studio import BRUSH, assert_capsule, stored_mask, studio_factory, submit  # noqa: F401 (studio_factory: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_too_small_picture_is_refused_in_plain_words_before_upload(studio_factory):
    studio = studio_factory()
    studio.upload(pictures.picture(200, 20))
    message = studio.page.get_by_test_id("picture-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("This picture is 200 × 20 pixels; each side must be at least 32 pixels.")
    assert studio.page.get_by_test_id("upload").evaluate("input => input.files.length") == 0
    assert InpaintJob.objects.count() == 0


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
