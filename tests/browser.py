"""Playwright helpers for the browser tests: Debian's chromium, the studio page, strokes at screen points."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu"]


@dataclass
class Studio:
    """The studio page in one browser context, with every URL it requested."""

    page: object
    base_url: str
    requests: list[str] = field(default_factory=list)

    def upload(self, data: bytes, name: str = "photo.jpg", mime: str = "image/jpeg") -> None:
        self.page.get_by_test_id("upload").set_input_files({"name": name, "mimeType": mime, "buffer": data})

    def upload_and_wait(self, data: bytes, name: str = "photo.jpg", mime: str = "image/jpeg") -> None:
        self.upload(data, name, mime)
        self.page.wait_for_selector("[data-editor][data-loaded]", state="attached")

    def canvas_box(self) -> dict:
        return self.page.get_by_test_id("canvas").bounding_box()

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Press at the first screen point, move through the others, release."""
        mouse = self.page.mouse
        mouse.move(*points[0])
        mouse.down()
        for point in points[1:]:
            mouse.move(*point, steps=8)
        mouse.up()

    def screen_point(self, fx: float, fy: float) -> tuple[float, float]:
        """The screen point at a fraction of the canvas's box."""
        box = self.canvas_box()
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    def image_point(self, point: tuple[float, float], size: tuple[int, int]) -> tuple[float, float]:
        """Where a screen point falls on the picture, from Playwright's own box of the canvas."""
        box = self.canvas_box()
        return (point[0] - box["x"]) / box["width"] * size[0], (point[1] - box["y"]) / box["height"] * size[1]

    def set_brush(self, size: int) -> None:
        self.page.get_by_test_id("brush-size").fill(str(size))

    def mask_painted(self) -> bool:
        """Whether any pixel of the mask overlay is painted."""
        return self.page.get_by_test_id("canvas").evaluate(
            "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0)")

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.base_url) and not url.startswith(("data:", "blob:"))]


# What static/inpaint/first-visit.js remembers once the first visit's hint is dismissed.
FIRST_VISIT_SEEN = "() => localStorage.setItem('inpaint.firstVisitSeen', '1')"


def open_studio(browser, base_url: str, first_visit: bool = False, **context_options) -> Studio:
    # English unless a test asks for another language: the page follows the browser's Accept-Language.
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, "locale": "en-US", **context_options})
    if not first_visit:
        # The hint has been dismissed before, so it moves nothing on the page: only the tests of a first visit see it.
        context.add_init_script(f"({FIRST_VISIT_SEEN})()")
    page = context.new_page()
    page.set_default_timeout(15_000)
    studio = Studio(page, base_url)
    page.on("request", lambda request: studio.requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A Content-Security-Policy violation is reported on the console; every browser test fails on one.
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    page.goto(base_url + "/")
    page.wait_for_selector("[data-editor][data-ready]", state="attached")
    studio.errors = errors
    return studio


def renderer_memory(browser) -> dict[int, tuple[float, float]]:
    """Each renderer process's resident memory now and at its peak (VmRSS, VmHWM), in MB, by process id.
    A page draws its canvases in its renderer (in software, with --disable-gpu)."""
    cdp = browser.new_browser_cdp_session()
    processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
    cdp.detach()
    return {process["id"]: (_status_kb(process["id"], "VmRSS") / 1024, _status_kb(process["id"], "VmHWM") / 1024)
            for process in processes if process["type"] == "renderer"}


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


def mask_array(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.mode == "L", image.mode
    return np.asarray(image)


def painted_bounds(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask >= 128)
    assert len(xs), "nothing was painted"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


# axe-core from the npm registry (package.json, `make install-test`), for the tests only: it is put into the page by
# the browser driver, never served by the app.
AXE_SCRIPT = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# The WCAG 2.1 A and AA rules that axe-core checks (its own tags for them).
AXE_WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page, tags: list[str] = AXE_WCAG21_AA) -> list[dict]:
    """axe-core's violations of ``tags`` in the page as it is now: each rule's id, help and the elements."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text())
    checked = page.evaluate(
        """async (tags) => {
             const run = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
             return {passed: run.passes.length,
                     violations: run.violations.map((v) => ({id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" "))}))};
           }""",
        tags)
    # A run that checked nothing (no axe, no page) would pass vacuously.
    assert checked["passed"] > 0, "axe-core checked no rule"
    return checked["violations"]
