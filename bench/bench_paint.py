"""Benchmark: painting on photos of every size in headless Chromium (issue 23).

    .venv/bin/python bench/bench_paint.py

Starts `make run`'s processes (the real supervisor, SQLite and the embedded broker) in a var directory of its
own, opens the studio in Debian's chromium as the browser tests do, and for a 0.3 MP, a 12 MP and a 48 MP
photo (the last painted on its 4096 px proxy), each in a fresh page: chooses the photo from disk, presses the
brush down and makes 200 pointer moves across it. A move's time is what Playwright's ``mouse.move`` takes:
the browser answers once the page's main thread has handled the event, so a redraw that holds the thread
(the previous frame's canvas work included) is counted. Prints the median and 95th percentile per size, the
48 MP / 0.3 MP ratio of the medians, and the renderer's peak memory (VmHWM) over what it held before.

The empty stage comes first, as the floor: Chromium delivers pointer moves aligned to its frames, so a move's
round trip is about one frame (16.7 ms) even when the page does nothing with it; the main thread's busy time
a move is what the editor itself costs.

Targets: a median ≤ 8 ms on every size, and a 48 MP / 0.3 MP ratio ≤ 1.2.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import CHROMIUM, CHROMIUM_ARGS, open_studio, renderer_memory  # noqa: E402
from tests.pictures import picture  # noqa: E402
from tests.supervised import supervisor_start_ready, supervisor_stop  # noqa: E402

MOVES = 200
T = TypeVar("T")
# The empty stage first: the browser hands a move to the page once a frame (60 a second), whatever it does.
SIZES = {"no picture (the browser's own)": None, "0.3 MP": (640, 480), "12 MP": (4000, 3000), "48 MP": (8064, 6048)}


def moves_time(studio) -> tuple[list[float], float]:
    """Milliseconds each of MOVES pointer moves took, with the brush down, zig-zagging over the picture, and
    the main thread's busy milliseconds a move."""
    page = studio.page
    if studio.page.locator("[data-editor][data-loaded]").count():
        studio.set_brush(24)
    x, y = studio.screen_point(0.1, 0.5)
    page.mouse.move(x, y)
    page.mouse.down()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    busy_before = _task_seconds(cdp)
    times = []
    box = studio.canvas_box()  # once: asking the page for it at every move would be timed with the move
    for index in range(MOVES):
        x = box["x"] + box["width"] * (0.1 + 0.8 * index / MOVES)
        y = box["y"] + box["height"] * (0.3 + 0.4 * (index % 20) / 20)
        started = time.perf_counter()
        page.mouse.move(x, y)
        times.append((time.perf_counter() - started) * 1000)
    page.wait_for_timeout(100)  # the last frame drawn
    busy = (_task_seconds(cdp) - busy_before) * 1000 / MOVES
    page.mouse.up()
    cdp.detach()
    return times, busy


def _task_seconds(cdp) -> float:
    """The page's main thread busy time so far (every task: events, scripts, style, layout, paint)."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return next(metric["value"] for metric in metrics if metric["name"] == "TaskDuration")


def size_measure(browser, url: str, folder: Path, label: str, size: tuple[int, int] | None) -> dict:
    """The moves on a photo of ``size``, or with None on the empty stage: what a move costs with nothing painted."""
    before = renderer_memory(browser)
    studio = open_studio(browser, url)
    try:
        if size:
            photo = folder / f"photo-{size[0]}x{size[1]}.jpg"
            photo.write_bytes(picture(*size))
            studio.page.get_by_test_id("upload").set_input_files(photo)
            studio.page.wait_for_selector("[data-editor][data-loaded]", state="attached")
        times, busy = moves_time(studio)
        after = renderer_memory(browser)
        growth = max(peak - before.get(pid, (0, 0))[0] for pid, (_, peak) in after.items())
    finally:
        studio.page.context.close()
    times.sort()
    return {"label": label, "median": statistics.median(times), "p95": times[int(0.95 * len(times)) - 1], "busy": busy,
            "renderer_mb": growth}


def browser_bench_run(measure: Callable[[object, str, Path], T]) -> T:
    """``measure(browser, url, var_dir)`` against `make run`'s processes in a var directory of their own, with
    Debian's chromium; everything stopped and removed after."""
    var_dir = Path(tempfile.mkdtemp(prefix="inpaint-bench-browser-"))
    # The page's scripts and styles, as `make run` collects them (the suite's servers find them in static/).
    subprocess.run([sys.executable, "-m", "webapp.startup", "--static"], cwd=ROOT, check=True,
                   env={**os.environ, "INPAINT_VAR_DIR": str(var_dir)})
    supervisor, url = supervisor_start_ready(var_dir)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            figures = measure(browser, url, var_dir)
            browser.close()
    finally:
        supervisor_stop(supervisor)
        shutil.rmtree(var_dir, ignore_errors=True)
    return figures


def main() -> None:
    figures = browser_bench_run(lambda browser, url, var_dir: [
        size_measure(browser, url, var_dir, label, size) for label, size in SIZES.items()])
    print("| photo | a move: median | 95th percentile | main thread busy a move | renderer's growth |")
    print("|---|---|---|---|---|")
    for figure in figures:
        print(f"| {figure['label']} | {figure['median']:.1f} ms | {figure['p95']:.1f} ms | {figure['busy']:.1f} ms | {figure['renderer_mb']:.0f} MB |")
    print(f"\n48 MP / 0.3 MP: medians {figures[-1]['median'] / figures[1]['median']:.2f}, "
          f"main thread {figures[-1]['busy'] / figures[1]['busy']:.2f}")


if __name__ == "__main__":
    main()
