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
from django.conf import settings
settings.configure(USE_I18N=False)  # images' messages go through gettext; the app's own settings are not needed
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


THREADS_CHILD = """
import json, sys, threading
from django.conf import settings
settings.configure(USE_I18N=False)  # images' messages go through gettext; the app's own settings are not needed
from inpaint import images
from tests.pictures import mask, png_bomb
if sys.argv[1] == "returned":  # imported only here: even loading ctypes moves the heap enough to change the outcome
    from webapp.memory import large_blocks_returned
    assert large_blocks_returned()
limits = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 100_000_000}
bomb, mask_png, one_at_a_time = png_bomb(), mask(10_000, 10_000), threading.Lock()
def post():  # as a create in a web thread: one decode per process at a time (INPAINT_DECODES_AT_ONCE)
    with one_at_a_time:
        images.prepare_base_image(bomb, min_side=32, **limits)
        images.prepare_mask(mask_png, base_size=(10_000, 10_000), **limits)
threads = [threading.Thread(target=post) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:")) * 1024))
"""
# What a process may keep once its decodes are over: the interpreter, Pillow and numpy, not a picture.
RESIDENT_AFTER_LIMIT = 400 * MB


def resident_after_threaded_decodes(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", THREADS_CHILD, mode], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_web_process_gives_a_bombs_memory_back_once_decoded():
    # Without the fixed threshold, glibc keeps the freed blocks in the threads' heap arenas: ~1 GB stays.
    assert resident_after_threaded_decodes("returned") < RESIDENT_AFTER_LIMIT


def test_without_the_fixed_threshold_the_memory_stays():
    """The check above can fail: the same decodes with glibc's own threshold keep the picture resident."""
    assert resident_after_threaded_decodes("default") > RESIDENT_AFTER_LIMIT
