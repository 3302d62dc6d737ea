"""The keyboard alone in a real browser (issue 22): from an empty page to a downloaded result without a single mouse,
touch or pen event. The picture comes in through the chooser, the area is marked with the rectangle tool's keys on
the focused picture, the prompt and options are typed and chosen, Generate is pressed, the job followed and its result
downloaded. Every stop on the way has a visible focus."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import TEST_API_KEY
from tests.studio import stored_mask, studio_factory  # noqa: F401 (studio_factory: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIZE = (640, 480)
ENGINE = "wanx-x-painting"
# How far Tab may go to reach a control: more stops than the page has means focus is lost or trapped.
MOST_TAB_STOPS = 80

POINTER_EVENTS_COUNTED = """() => {
  window.pointerEventsSeen = 0;
  for (const kind of ["pointerdown", "mousedown", "touchstart", "click"]) {
    // A click fired by Enter or Space on a button has detail 0 and no pointer: only real pointer clicks count.
    document.addEventListener(kind, (event) => {
      if (kind !== "click" || event.detail > 0 || event.pointerType) window.pointerEventsSeen += 1;
    }, true);
  }
}"""

FOCUS_SEEN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body", visible: false};
  const style = getComputedStyle(el);
  // The chooser's input is visually hidden: its label is what shows the focus.
  const shown = el.matches(".visually-hidden") ? document.querySelector(`label[for="${el.id}"]`) : el;
  const shownStyle = getComputedStyle(shown);
  const ring = (s) => (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
  return {tag: el.tagName.toLowerCase(), testid: el.dataset.testid || "", name: el.getAttribute("aria-label") || el.textContent.trim().slice(0, 30),
          visible: ring(style) || ring(shownStyle)};
}"""


def tab_to(page, reached, backwards: bool = False) -> dict:
    """Press Tab until ``reached(focus)`` holds; every stop on the way has a visible focus ring, and the control
    is reached within the page's stops (so nothing on the way traps the focus). With ``backwards``, Shift+Tab."""
    for _ in range(MOST_TAB_STOPS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focus = page.evaluate(FOCUS_SEEN)
        assert focus["visible"], f"no visible focus on {focus}"
        if reached(focus):
            return focus
    raise AssertionError(f"Tab never reached the control; the last stop was {focus}")


def test_from_an_empty_page_to_a_downloaded_result_with_the_keyboard_alone(studio_factory, live_server, dashscope,
                                                                           standin_settings, start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)
    studio = studio_factory()
    page = studio.page
    page.evaluate(POINTER_EVENTS_COUNTED)
    # Playwright turns on catching the chooser without waiting for the browser, when a listener is first added:
    # added here, it is on well before Enter opens the chooser.
    page.on("filechooser", lambda chooser: None)

    tab_to(page, lambda focus: focus["testid"] == "upload")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files({"name": "photo.png", "mimeType": "image/png", "buffer": pictures.picture(*SIZE)})
    page.wait_for_selector("[data-editor][data-loaded]", state="attached")

    # The rectangle tool, then the picture: its box starts as the middle half; narrowed, then marked with Enter.
    tab_to(page, lambda focus: focus["testid"] == "rectangle", backwards=True)  # the mask tools are above
    page.keyboard.press("Enter")
    tab_to(page, lambda focus: focus["testid"] == "stage")
    expect(page.locator("[data-rect-preview]")).to_be_visible()
    for _ in range(5):
        page.keyboard.press("Shift+ArrowLeft")  # 5 steps of 2 % of 640 px: the right edge 64 px in
    page.keyboard.press("Enter")
    assert studio.mask_painted()

    # The engine, chosen with the arrow keys: one that follows the prompt.
    tab_to(page, lambda focus: focus["testid"] == "engine")
    for _ in range(len(page.get_by_test_id("engine").locator("option").all())):
        if page.get_by_test_id("engine").input_value() == ENGINE:
            break
        page.keyboard.press("ArrowDown")
    assert page.get_by_test_id("engine").input_value() == ENGINE
    tab_to(page, lambda focus: focus["testid"] == "prompt")
    page.keyboard.type("a quiet lake")
    tab_to(page, lambda focus: focus["testid"] == "n-1")
    page.keyboard.press("ArrowRight")  # two results, not one
    tab_to(page, lambda focus: focus["testid"] == "generate")
    page.keyboard.press("Enter")

    card = page.get_by_test_id("job-card")
    expect(card).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    job = InpaintJob.objects.get()
    assert (job.engine, job.prompt, job.n) == (ENGINE, "a quiet lake", 2)
    mask = stored_mask(job)  # the box: x 160–416, y 120–360 of 640 × 480
    assert mask[240, 170] == 255 and mask[240, 405] == 255 and mask[130, 300] == 255 and mask[350, 300] == 255
    assert mask[240, 150] == 0 and mask[240, 430] == 0 and mask[110, 300] == 0 and mask[370, 300] == 0
    tab_to(page, lambda focus: focus["testid"] == "download")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    result = Image.open(io.BytesIO(open(download.value.path(), "rb").read()))
    assert result.size == SIZE

    assert page.evaluate("() => window.pointerEventsSeen") == 0
