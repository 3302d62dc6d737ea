"""Benchmark: the worker's side of an extension (wanx2.1-imageedit function=expand) of a 24 MP photo.

    .venv/bin/python bench/bench_expand.py

Each case is what the worker does besides waiting for the model: decode the stored original and scale the whole
picture to the size it is sent at (submit step), then take an answer of the size the model makes of it, scale
it up to the extended picture at the photo's own resolution, lay the photo over its area with the feathered band,
and store it as a lossless PNG with a preview (poll step). Each case runs in a fresh process (peak RSS is its
VmHWM); median of 3 runs. The CPU time (all threads) shows the work apart from what else runs on the machine.

Targets (issue 20, 2 cores): expand to 1.5× of 24 MP in ≤ 5 s and ≤ 1 GB.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench_full_resolution import ROOT, django_defaults, peak_rss_mb, photo

RUNS = 3
SIZE = (6000, 4000)
# The "1.5×" preset (each side a quarter of the picture out), and the 1.5× left and right.
CASES = {
    "1.5× (all sides 1.25)": {"top_scale": 1.25, "bottom_scale": 1.25, "left_scale": 1.25, "right_scale": 1.25},
    "left and right 1.5": {"top_scale": 1.0, "bottom_scale": 1.0, "left_scale": 1.5, "right_scale": 1.5},
}


def case(picture: bytes, label: str) -> None:
    from inpaint import images_expand, options
    from inpaint.engines.dashscope import WanxImageEditEngine

    engine, scales = WanxImageEditEngine(), CASES[label]
    started, cpu_started = time.perf_counter(), time.process_time()
    prepared = images_expand.expand_prepare(picture, scales, send_size=engine.send_size,
                                            max_bytes=engine.limits.max_bytes)
    sent = prepared.send_size
    made = images_expand.expansion_of(sent, scales)
    answer = io.BytesIO()
    Image.new("RGB", (made.new_width, made.new_height), (40, 160, 90)).save(answer, "PNG")  # the model, at once
    composed = images_expand.expand_compose(picture, answer.getvalue(), scales, send_width=sent[0],
                                            edge_softness=options.EDGE_SOFTNESS_DEFAULT)
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_started,
                      "peak_mb": peak_rss_mb(),
                      "note": f"sent {sent[0]}×{sent[1]}, answer {made.new_width}×{made.new_height}, "
                              f"result {composed.width}×{composed.height}"}))


def run(picture_path: Path, label: str) -> dict:
    runs = []
    for _ in range(RUNS):
        output = subprocess.run([sys.executable, __file__, "--case", str(picture_path), label],
                                cwd=ROOT, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs),
            "note": runs[0]["note"]}


def main() -> None:
    print("| photo | extension | median of 3 | CPU time (both cores) | peak RSS | what |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        picture_path = Path(scratch) / "photo.jpg"
        picture_path.write_bytes(photo(*SIZE))
        for label in CASES:
            figure = run(picture_path, label)
            print(f"| 24 MP | {label} | {figure['seconds']:.2f} s | {figure['cpu_seconds']:.2f} s | "
                  f"{figure['peak_mb']:.0f} MB | {figure['note']} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        django_defaults()
        case(Path(sys.argv[2]).read_bytes(), sys.argv[3])
    else:
        main()
