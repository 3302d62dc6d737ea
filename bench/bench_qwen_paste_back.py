"""Benchmark: the worker's side of a Qwen-Image-Edit job on a 24 MP photo, besides waiting for the model.

    .venv/bin/python bench/bench_qwen_paste_back.py

What the edits worker does for one job: decode the stored original, choose the work region and scale it to the
size qwen-image-edit-plus is sent (its own shape in multiples of 16, 512–2048 a side), then scale an answer of a
close but different shape (as the model's are) back to the region, paste it in through the feathered mask at full
resolution, and store it as a lossless PNG with a preview. Each context in a fresh process (peak RSS is its
VmHWM); median of 3 runs.

Targets (issue 20, 2 cores): ≤ 3 s and ≤ 600 MB for 24 MP.
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

from bench_full_resolution import ROOT, peak_rss_mb, photo, two_percent_mask

RUNS = 3
CONTEXTS = ("little", "normal", "whole")


def case(picture: bytes, mask: bytes, context: str) -> None:
    from inpaint import options, regions
    from inpaint.engines.qwen import QwenImageEditPlusEngine

    engine = QwenImageEditPlusEngine()
    started = time.perf_counter()
    prepared = regions.region_prepare(picture, mask, context=context, shapes=None, min_side=engine.limits.min_side,
                                      send_size=engine.send_size, max_bytes=engine.limits.max_bytes,
                                      max_aspect=engine.limits.max_side / engine.limits.min_side)
    width, height = prepared.send_size
    answer = io.BytesIO()
    Image.new("RGB", (width + 32, height - 16), (40, 160, 90)).save(answer, "PNG")  # close to the shape, not equal
    composed = regions.result_compose(picture, mask, prepared.region, answer.getvalue(),
                                      edge_softness=options.EDGE_SOFTNESS_DEFAULT,
                                      shape_tolerance=engine.answer_aspect_tolerance)
    region = prepared.region
    print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": peak_rss_mb(),
                      "note": f"region {region.width}×{region.height} sent at {width}×{height}, "
                              f"result {composed.width}×{composed.height}"}))


def run(picture_path: Path, mask_path: Path, context: str) -> dict:
    runs = []
    for _ in range(RUNS):
        output = subprocess.run([sys.executable, __file__, "--case", str(picture_path), str(mask_path), context],
                                cwd=ROOT, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs),
            "note": runs[0]["note"]}


def main() -> None:
    print("| photo | context | median of 3 | peak RSS | what |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        picture_path, mask_path = Path(scratch) / "photo.jpg", Path(scratch) / "mask.png"
        picture_path.write_bytes(photo(6000, 4000))
        mask_path.write_bytes(two_percent_mask(6000, 4000))
        for context in CONTEXTS:
            figure = run(picture_path, mask_path, context)
            print(f"| 24 MP | {context} | {figure['seconds']:.2f} s | {figure['peak_mb']:.0f} MB | {figure['note']} |",
                  flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 5 and sys.argv[1] == "--case":
        case(Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes(), sys.argv[4])
    else:
        main()
