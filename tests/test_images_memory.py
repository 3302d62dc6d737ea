"""The peak memory of the picture checks on a decode bomb (issue 17): a 400 KB PNG that declares 10000 × 10000
transparent RGBA turned by EXIF. Each case runs in a fresh child process, so its peak (VmHWM) is its own.
Before the fix these peaked at 2.4 GB (prepare_base_image) and 1.4 GB (picture_preview)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
# The decoded RGBA (400 MB) plus one RGB copy (300 MB), the alpha and the interpreter: what one decode may cost.
PREPARE_PEAK_LIMIT = 1200 * MB
PREVIEW_PEAK_LIMIT = 1000 * MB
MASK_PEAK_LIMIT = 800 * MB
CHILD = """
import json, sys
from inpaint import images
from tests.pictures import png_bomb
limits = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 100_000_000}
case = sys.argv[1]
if case == "prepare":
    images.prepare_base_image(png_bomb(), min_side=32, **limits)
elif case == "preview":
    images.picture_preview(png_bomb(), max_side=4096, **limits)
else:
    grey_half = bytes([134, 134, 134]) * 5000 + bytes(3 * 5000)
    images.prepare_mask(png_bomb(mode="RGB", orientation=None, row=grey_half), base_size=(10_000, 10_000),
                        mask_color=[[134, 134, 134]], **limits)
# VmHWM is this program's own peak: ru_maxrss would carry over the parent's (pytest's) from before the exec.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps(peak_kb * 1024))
"""


def peak_bytes(case: str) -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, case], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("case", "limit"), [("prepare", PREPARE_PEAK_LIMIT), ("preview", PREVIEW_PEAK_LIMIT),
                                             ("mask", MASK_PEAK_LIMIT)])
def test_a_decode_bomb_peaks_under_its_limit(case, limit):
    assert peak_bytes(case) < limit
