"""Benchmark: the worker's side of a cloud job at full resolution, by photo size and context choice.

    .venv/bin/python bench/bench_paste_back.py

bench_full_resolution.py gives the issue's headline figure (24 MP, 2 % mask, "Normal" context).
This one shows how that cost moves with what people choose: each context ("A little", "Normal",
"The whole picture") on a 24 MP and a 48 MP photo made in code, with the same 2 % mask. Each case
is what the worker does besides waiting for the model: decode the stored original, choose the
work region and scale it to wanx-x-painting's output shape (submit step), then paste a returned
image of that size back at full resolution and store it as a lossless PNG with a preview (poll
step). Each case runs in a fresh process (peak RSS is its VmHWM); median of 3 runs.

Targets (issue 8, 2 cores): ≤ 3 s and ≤ 600 MB for 24 MP.
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

from bench_full_resolution import ROOT, django_defaults, peak_rss_mb, photo, two_percent_mask

RUNS = 3
WANX_SHAPES = ((1024, 1024), (720, 1280), (1280, 720))
SIZES = {"24 MP": (6000, 4000), "48 MP": (8064, 6048)}
CONTEXTS = ("little", "normal", "whole")


def case(picture: bytes, mask: bytes, context: str) -> None:
    from inpaint import options, regions

    def send_size(width: int, height: int) -> tuple[int, int]:
        return min(WANX_SHAPES, key=lambda shape: abs(shape[0] / shape[1] - width / height))

    started = time.perf_counter()
    prepared = regions.region_prepare(picture, mask, context=context, shapes=WANX_SHAPES, min_side=256,
                                      send_size=send_size, max_bytes=10 * 1024 * 1024)
    answer = io.BytesIO()
    Image.new("RGB", prepared.send_size, (40, 160, 90)).save(answer, "PNG")  # the model, answering at once
    composed = regions.result_compose(picture, mask, prepared.region, answer.getvalue(),
                                      edge_softness=options.EDGE_SOFTNESS_DEFAULT)
    region = prepared.region
    print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": peak_rss_mb(),
                      "note": f"region {region.width}×{region.height}, result {composed.width}×{composed.height}"}))


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
        for label, (width, height) in SIZES.items():
            picture_path, mask_path = Path(scratch) / "photo.jpg", Path(scratch) / "mask.png"
            picture_path.write_bytes(photo(width, height))
            mask_path.write_bytes(two_percent_mask(width, height))
            for context in CONTEXTS:
                figure = run(picture_path, mask_path, context)
                print(f"| {label} | {context} | {figure['seconds']:.2f} s | {figure['peak_mb']:.0f} MB | "
                      f"{figure['note']} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 5 and sys.argv[1] == "--case":
        django_defaults()
        case(Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes(), sys.argv[4])
    else:
        main()
