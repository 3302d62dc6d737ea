"""Benchmark: the renderer's memory with a 48 MP result on the canvas (issue 23, "Memory").

    .venv/bin/python bench/bench_result_view.py

Starts `make run`'s processes (the real supervisor, SQLite, the embedded broker, the offline engine) in a var
directory of its own and opens the studio in Debian's chromium as the browser tests do. A 48 MP photo
(8064 × 6048) is chosen from disk and painted on its proxy, and two variants are made by the offline engine.
Then the first result is shown on the canvas, zoomed past 400 % of its own pixels (where the visible part is
fetched at full resolution), and the variants are stepped through STEPS times with the arrow keys.

Prints the renderer's resident memory (VmRSS) and its peak (VmHWM) over what it held before the page opened: after
painting (today's 48 MP figure), after the result came up past 400 %, and after each step. Target (issue 23): the
peak with results on the canvas is no worse than painting's, and stepping does not grow the memory (the old
result's layers are dropped).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect  # noqa: E402

from bench_paint import browser_bench_run  # noqa: E402
from tests.browser import open_studio, renderer_memory  # noqa: E402
from tests.pictures import picture  # noqa: E402

SIZE = (8064, 6048)
STEPS = 6
# Presses of "+" from 100 % of the proxy that pass 400 % of the result's own pixels (the proxy is 4096 px wide).
ZOOM_PRESSES = 12
FILL_SECONDS = 600


def memory_over(before: dict, browser) -> dict:
    """The page's renderer's resident memory and peak, in MB over what renderers held before it opened."""
    now = renderer_memory(browser)
    pid = max(now, key=lambda process: now[process][1] - before.get(process, (0, 0))[0])
    base = before.get(pid, (0, 0))[0]
    return {"rss_mb": round(now[pid][0] - base), "peak_mb": round(now[pid][1] - base)}


def measure(browser, url: str, folder: Path) -> dict:
    before = renderer_memory(browser)
    studio = open_studio(browser, url)
    page = studio.page
    figures: dict = {}
    try:
        photo = folder / "photo-48mp.jpg"
        photo.write_bytes(picture(*SIZE))
        page.get_by_test_id("upload").set_input_files(photo)
        page.wait_for_selector("[data-editor][data-loaded]", state="attached")
        # The offline engine takes no words: its prompt stays disabled.
        page.get_by_test_id("n-2").check(force=True)
        studio.stroke([studio.screen_point(0.4, 0.4), studio.screen_point(0.6, 0.55)])
        figures["after painting"] = memory_over(before, browser)
        page.get_by_test_id("generate").click()
        expect(page.get_by_test_id("job-card")).to_have_attribute("data-status", "SUCCEEDED",
                                                                  timeout=FILL_SECONDS * 1000)

        page.get_by_test_id("show-on-canvas").first.click()
        expect(page.get_by_test_id("canvas-result")).to_be_visible()
        page.mouse.move(*studio.screen_point(0.5, 0.5))
        for key in ["1", *["+"] * ZOOM_PRESSES]:
            page.keyboard.press(key)
        zoom = int(page.locator("[data-editor]").get_attribute("data-zoom"))
        figures["zoom of the result's own pixels (%)"] = round(zoom * 4096 / SIZE[0])
        part = page.get_by_test_id("canvas-result-part")
        expect(part).to_be_visible(timeout=30_000)
        figures["the result past 400 %"] = memory_over(before, browser)
        for step in range(STEPS):
            page.keyboard.press("ArrowRight" if step % 2 == 0 else "ArrowLeft")
            expect(page.get_by_test_id("result-bar")).to_contain_text(
                f"Result {2 if step % 2 == 0 else 1} of 2 on the canvas")
            expect(part).to_be_visible(timeout=30_000)
            figures[f"after step {step + 1}"] = memory_over(before, browser)
    finally:
        page.context.close()
    return figures


def main() -> None:
    print(json.dumps(browser_bench_run(measure), indent=1))


if __name__ == "__main__":
    main()
