"""The studio on small screens and at browser zoom, in a real browser (issue 22): at 320 CSS px wide and at 200 %
zoom the page reflows, so nothing but the canvas scrolls sideways; in Chinese, at a phone's and a desktop's width,
no text is cut off or overflows its box. Checked in every state a visitor meets: the empty page, a picture with a
mask, the shortcut list open, a finished job's card (a real worker and the offline engine)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import pictures
from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NARROWEST = {"viewport": {"width": 320, "height": 640}}  # WCAG 1.4.10's reflow width
# A 1280×800 window at 200 % zoom: the page sees half as many CSS pixels, each drawn with two device pixels.
ZOOM = 2
ZOOMED = {"viewport": {"width": 1280 // ZOOM, "height": 800 // ZOOM}, "device_scale_factor": ZOOM}
REFLOW_VIEWPORTS = {"320 px wide": NARROWEST, "200 % zoom": ZOOMED}
PHONE = {"viewport": {"width": 390, "height": 844}}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
TEXT_VIEWPORTS = {"390 px wide": PHONE, "1440 px wide": DESKTOP}
CHINESE = "zh-CN"
JOB_TIMEOUT = 60_000  # ms: the offline engine on a loaded 2-core machine

# What both checks share: how a fault names an element (its tag, classes, test id and the start of its text), and
# the slack for layout's rounding to whole pixels.
PRELUDE = """
  const SLACK = 1, QUOTED = 30;
  const quote = (text) => `"${text.trim().slice(0, QUOTED)}"`;
  const classes = (el) => typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\\s+/).join(".") : "";
  const name = (el) => el.tagName.toLowerCase() + classes(el)
    + (el.dataset.testid ? `[${el.dataset.testid}]` : "") + " " + quote(el.textContent);
"""

# Whatever sticks out past the viewport's right edge, outside the canvas stage (which pans and zooms the picture
# inside its own box). The edge is documentElement.clientWidth, the viewport less any scrollbar: a page wider than
# that scrolls sideways.
REFLOW_FAULTS = "() => {" + PRELUDE + """
  const edge = document.documentElement.clientWidth, stage = document.querySelector("[data-stage]");
  const faults = [];
  if (document.documentElement.scrollWidth > edge) faults.push(`page ${document.documentElement.scrollWidth} px wide in ${edge}`);
  for (const el of document.body.querySelectorAll("*")) {
    if ((el !== stage && stage && stage.contains(el)) || !el.checkVisibility({visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > edge + SLACK) faults.push(`${name(el)} reaches ${Math.round(box.right)} px`);
  }
  return faults;
}"""

# Text cut off or overflowing, by three rules. (1) A box with text of its own that clips (overflow hidden or clip,
# which text-overflow: ellipsis needs) must hold its content: scrollWidth/Height within clientWidth/Height + 1 px
# (SLACK). (2) An element with text of its own must lie inside its nearest clipping
# ancestor's inner box, or the clip cuts it. (3) Each run of text must lie inside every clipping box around it, and
# inside its button, label, heading or summary even where that does not clip, as it would spill over the border (a
# button's text is often in a <span>, which rule 1 cannot see). Only text counts: a box holding just a picture or a
# control may clip it on purpose (the colour swatch). A select shows its chosen option's text beside its arrow: that
# text must fit. Visually hidden text (a 1 px clipped box, for screen readers) is cut on purpose and skipped.
TEXT_FAULTS = "() => {" + PRELUDE + """
  const SELECT_ARROW = 20, SHOWN = {visibilityProperty: true};
  const CONTROLS = "button, .button, label, legend, summary, h1, h2, h3, h4";
  const clipsX = (s) => s.overflowX === "hidden" || s.overflowX === "clip";
  const clipsY = (s) => s.overflowY === "hidden" || s.overflowY === "clip";
  const hiddenOnPurpose = (el) => { for (let e = el; e; e = e.parentElement) {
      const b = e.getBoundingClientRect(), s = getComputedStyle(e);
      if (b.width <= 1 && b.height <= 1 && (clipsX(s) || clipsY(s))) return true; } return false; };
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  // Whether a box (a DOMRect) lies outside an element's inner box, on the x and on the y axis.
  const outside = (box, el) => {
    const outer = el.getBoundingClientRect(), left = outer.left + el.clientLeft, top = outer.top + el.clientTop;
    return [box.left < left - SLACK || box.right > left + el.clientWidth + SLACK,
            box.top < top - SLACK || box.bottom > top + el.clientHeight + SLACK];
  };
  const measure = document.createElement("canvas").getContext("2d");
  const faults = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!el.checkVisibility(SHOWN) || hiddenOnPurpose(el)) continue;
    const s = getComputedStyle(el);
    if (el.tagName === "SELECT" && el.selectedOptions.length) {
      measure.font = s.font;
      const text = measure.measureText(el.selectedOptions[0].textContent.trim()).width;
      const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - SELECT_ARROW;
      if (text > room) faults.push(`${name(el)}: its option is ${Math.round(text)} px wide in ${Math.round(room)}`);
    }
    if (!ownText(el)) continue;
    if (s.display !== "inline" && (clipsX(s) || clipsY(s))) {
      if (el.scrollWidth > el.clientWidth + SLACK) faults.push(`${name(el)}: ${el.scrollWidth} px wide in ${el.clientWidth}`);
      if (el.scrollHeight > el.clientHeight + SLACK) faults.push(`${name(el)}: ${el.scrollHeight} px high in ${el.clientHeight}`);
    }
    let clip = el.parentElement;
    while (clip && !(clipsX(getComputedStyle(clip)) || clipsY(getComputedStyle(clip)))) clip = clip.parentElement;
    if (!clip || clip === document.documentElement || clip === document.body) continue;
    const [x, y] = outside(el.getBoundingClientRect(), clip), cs = getComputedStyle(clip);
    if ((clipsX(cs) && x) || (clipsY(cs) && y)) faults.push(`${name(el)} spills out of ${name(clip)}`);
  }
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), range = document.createRange();
  for (let text; (text = texts.nextNode());) {
    const parent = text.parentElement;
    if (!text.textContent.trim() || !parent.checkVisibility(SHOWN) || hiddenOnPurpose(parent)) continue;
    range.selectNodeContents(text);
    const box = range.getBoundingClientRect();
    if (!box.width) continue;  // an option's text, drawn by its select
    for (let around = parent; around && around !== document.body; around = around.parentElement) {
      const as = getComputedStyle(around), control = as.display !== "inline" && around.matches(CONTROLS);
      const [x, y] = outside(box, around);
      if (((control || clipsX(as)) && x) || ((control || clipsY(as)) && y)) {
        faults.push(`text ${quote(text.textContent)} overflows ${name(around)}`);
        break;
      }
    }
  }
  return faults;
}"""


def states(studios, start_worker, settings):
    """Take every page through the states a visitor meets, yielding each state's name once all pages are in it."""
    yield "the empty page, with the first visit's hint"
    for studio in studios:
        studio.page.get_by_test_id("first-visit-dismiss").click()
        studio.upload_and_wait(pictures.picture(640, 480))
        studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.7, 0.5)])
        assert studio.mask_painted()
    yield "a picture with a mask"
    for studio in studios:
        studio.page.keyboard.press("?")
        expect(studio.page.locator("[data-shortcuts]")).to_have_attribute("open", "")
    yield "the shortcut list open"
    settings.DASHSCOPE_API_KEY = ""  # the offline engine, so the job needs no service
    start_worker(DASHSCOPE_API_KEY="", DASHSCOPE_BASE_URL="http://127.0.0.1:9/unreachable")
    for studio in studios:
        studio.page.get_by_test_id("generate").click()
    for studio in studios:
        expect(studio.page.get_by_test_id("job-card")).to_have_attribute("data-status", "SUCCEEDED", timeout=JOB_TIMEOUT)
    yield "a finished job's card"


@pytest.mark.parametrize("locale", ["en-US", CHINESE])
def test_the_page_reflows_at_320_px_and_at_200_percent_zoom_in_every_state(locale, studio_factory, start_worker,
                                                                          settings):
    studios = {name: studio_factory(first_visit=True, locale=locale, **options) for name, options in REFLOW_VIEWPORTS.items()}
    for state in states(studios.values(), start_worker, settings):
        for name, studio in studios.items():
            faults = studio.page.evaluate(REFLOW_FAULTS)
            assert faults == [], f"{name}, {state}: {faults}"


def test_no_chinese_text_is_cut_off_on_a_phone_or_a_desktop_in_any_state(studio_factory, start_worker, settings):
    studios = {name: studio_factory(first_visit=True, locale=CHINESE, **options) for name, options in TEXT_VIEWPORTS.items()}
    for state in states(studios.values(), start_worker, settings):
        for name, studio in studios.items():
            faults = studio.page.evaluate(TEXT_FAULTS)
            assert faults == [], f"{name}, {state}: {faults}"


def test_the_checks_report_what_overflows(studio_factory):
    # Checks that pass on every page would prove nothing: each must catch its own kind of fault.
    page = studio_factory(locale=CHINESE, **NARROWEST).page
    page.evaluate("""() => { const wide = document.createElement("div"); wide.id = "too-wide"; wide.textContent = "宽";
                            wide.style.width = "2000px"; document.querySelector("main").append(wide); }""")
    faults = page.evaluate(REFLOW_FAULTS)
    assert any(fault.startswith("page ") for fault in faults), faults
    assert any(fault.startswith('div "宽"') and "reaches" in fault for fault in faults), faults
    page.evaluate("""() => { document.getElementById("too-wide").remove();
      const box = document.createElement("div"); box.style.cssText = "width: 80px; overflow: hidden";
      box.innerHTML = '<button style="white-space: nowrap">一个很长很长很长很长的按钮</button>'
        + '<button style="width: 60px"><span>又一个很长的按钮</span></button>'
        + '<p style="width: 60px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap">一段很长很长很长的提示</p>';
      document.querySelector("main").append(box);
      const select = document.querySelector("select"); select.style.width = "40px"; }""")
    faults = page.evaluate(TEXT_FAULTS)
    assert any(fault.startswith("button") and "spills out of div" in fault for fault in faults), faults
    assert any(fault.startswith('text "又一个') and "overflows button" in fault for fault in faults), faults
    assert any(fault.startswith("p ") and "px wide in" in fault for fault in faults), faults
    assert any(fault.startswith("select") and "option is" in fault for fault in faults), faults
