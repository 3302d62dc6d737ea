"""The editor's tools in a real browser (Debian's chromium through Playwright): the mask drawn on screen is the
mask the server stores, at the picture's own pixels, whatever the zoom, shape, rotation or pixel ratio; brush,
eraser, lasso, grow and shrink, undo and redo, pen, touch and the shortcuts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import pictures
from tests.browser import painted_bounds
from tests.live import wait_for
from tests.studio import BRUSH, assert_capsule, stored_mask, studio_factory, submit  # noqa: F401 (studio_factory: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


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
