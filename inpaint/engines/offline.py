"""The offline engine: content-aware fill inside the worker, no network, no model.

The painted area is filled from the rest of the picture with PatchMatch (PyPatchMatch,
patch radius 3, the setting /work/shared/reference/engines.md found best), or with
OpenCV's Navier-Stokes inpainting when PatchMatch is not installed. PatchMatch costs
about 0.6 µs per pixel of the picture it is given plus far more per hole pixel, so:

* a large hole is solved by PatchMatch on a smaller copy of the region (the structure), then
  carried up a pyramid to the region's own resolution by offline_pyramid, which copies real
  pixels of every level along a nearest-neighbour field: detail is never made by resampling;
* the hole is cut into pieces (a k-d split that stops when cutting no longer shrinks
  the bounding boxes much), and each piece is filled from a window around it only, so
  a long diagonal stroke does not pay for the whole picture; the pieces are filled in
  two waves on two threads (the native call releases the GIL), and the second wave
  sees the first wave's fills as context, so the pieces join without seams;
* the fill's colour and light are then made to meet its surroundings (offline_seam).

This module must not import Django so that it stays testable on its own.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from PIL import Image

from inpaint.images import encode_png
from inpaint.stored_messages import stored_fill, stored_template

from .base import Engine, EngineLimits, JobInput, SlotResult, TaskState, TaskStatus
from .offline_pyramid import pyramid_fill
from .offline_seam import seam_blend
from .styles import apply_style

try:
    import patchmatch
except ImportError:  # the OpenCV fallback below still works
    patchmatch = None

# PatchMatch compares (2 * 3 + 1)² patches; larger radii were 7-19x slower and no better.
PATCH_RADIUS = 3
# Hole pixels PatchMatch may see; a larger hole is solved on a smaller copy of the region and
# carried up to full size by the pyramid. Tuned with bench/bench_offline.py on 2 cores.
HOLE_PIXEL_BUDGET = 12_000
# The pyramid brings the detail back, but below a quarter size the structure it starts from
# loses thin objects that cross the hole.
MIN_WORKING_SCALE = 0.25
# Context around each piece: a fixed part for thin strokes plus a share of its size.
MIN_CONTEXT = 24
CONTEXT_SHARE = 0.15
# A piece is cut in two when the two halves' bounding boxes cover at most this share
# of its own, i.e. when cutting saves real work.
SPLIT_GAIN = 0.6
MIN_PIECE_PIXELS = 64
# The GIL is released inside the native call, so each core fills one piece.
FILL_THREADS = 2
# The longest side of the work region the fill takes at full resolution; larger regions are
# scaled down to it (and the result scaled back up when it is pasted into the photo). With it a
# 2 % mask on a 24 MP photo fills in under 3 s on 2 cores (bench/bench_full_resolution.py).
WORKING_SIDE = 1024
# Feathering of the style filter at the mask edge, in pixels (Gaussian sigma).
STYLE_FEATHER_SIGMA = 1.0

# PatchMatch's seed is global state of the native library; the lock keeps a seed and
# the fills that use it together when several jobs share a process.
_seed_lock = threading.Lock()


class OfflineEngineError(Exception):
    """A fill that could not be made, with a message a user can read."""


@dataclass(frozen=True)
class Box:
    """A rectangle of the picture: rows top..bottom-1, columns left..right-1."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def area(self) -> int:
        return (self.bottom - self.top) * (self.right - self.left)

    @property
    def longest_side(self) -> int:
        return max(self.bottom - self.top, self.right - self.left)

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def grown(self, margin: int, height: int, width: int) -> Box:
        return Box(
            max(0, self.top - margin),
            min(height, self.bottom + margin),
            max(0, self.left - margin),
            min(width, self.right + margin),
        )


@dataclass(frozen=True)
class Piece:
    """Some hole pixels (coordinates in the picture) and the window they are filled from."""

    rows: np.ndarray
    cols: np.ndarray
    window: Box


def load_inputs(job_input: JobInput) -> tuple[np.ndarray, np.ndarray]:
    """The work region (H×W×3 uint8) and its hole (H×W bool), as the core sent them.

    The core already scaled the region to ``send_size``, so the cost is bounded by the
    working size however large the photo is.
    """
    picture = Image.open(io.BytesIO(job_input.base_image)).convert("RGB")
    mask = Image.open(io.BytesIO(job_input.mask_image)).convert("L")
    if picture.size != mask.size:
        raise OfflineEngineError("the mask is not the same size as the picture")
    return np.asarray(picture).copy(), np.asarray(mask) > 0


def colour_profile(image_bytes: bytes) -> bytes | None:
    """The picture's embedded ICC profile, read from its header."""
    with Image.open(io.BytesIO(image_bytes)) as image:
        return image.info.get("icc_profile")


def context_margin(box: Box) -> int:
    return int(MIN_CONTEXT + CONTEXT_SHARE * box.longest_side)


def bounding_box(rows: np.ndarray, cols: np.ndarray) -> Box:
    return Box(int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1)


def split_hole(rows: np.ndarray, cols: np.ndarray, height: int, width: int) -> list[Piece]:
    """Cut the hole into pieces whose windows together cover far less than one window.

    A compact blob stays whole (cutting it would not save work and would only make
    seams), a long stroke or separate dabs become a chain of small pieces. The pieces
    come out in k-d order, so neighbours in the list are neighbours in the picture.
    """
    box = bounding_box(rows, cols)
    if rows.size >= 2 * MIN_PIECE_PIXELS:
        along_rows = box.bottom - box.top >= box.right - box.left
        order = np.argsort(rows if along_rows else cols, kind="stable")
        children = [(rows[half], cols[half]) for half in np.array_split(order, 2)]
        if sum(bounding_box(r, c).area for r, c in children) <= SPLIT_GAIN * box.area:
            return [piece for r, c in children for piece in split_hole(r, c, height, width)]
    return [Piece(rows, cols, box.grown(context_margin(box), height, width))]


def working_scale(hole_pixels: int) -> float:
    """The scale at which a hole of this size fits the PatchMatch budget."""
    scale = (HOLE_PIXEL_BUDGET / max(hole_pixels, 1)) ** 0.5
    return float(np.clip(scale, MIN_WORKING_SCALE, 1.0))


def matched_grain(window: np.ndarray, known: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Noise with the strength of the fine detail that a fill at ``scale`` loses.

    The detail is what a round trip through the smaller size removes from the known
    pixels; its spread per channel drives one luminance-like noise field, because
    photographic grain and fine texture vary mostly in brightness.
    """
    height, width = known.shape
    small = (max(1, round(width * scale)), max(1, round(height * scale)))
    blurred = cv2.resize(cv2.resize(window, small, interpolation=cv2.INTER_AREA), (width, height), interpolation=cv2.INTER_CUBIC)
    detail = window.astype(np.float32) - blurred
    spread = detail[known].std(axis=0) if known.any() else np.zeros(3, np.float32)
    field = rng.standard_normal((height, width)).astype(np.float32)
    return field[..., None] * spread[None, None, :]


def fill_piece(picture: np.ndarray, pending: np.ndarray, piece: Piece) -> np.ndarray:
    """Fill one piece from its window; returns the new colours of its pixels (N×3).

    ``pending`` marks hole pixels not filled yet: they are neither filled nor used as
    a source here (PatchMatch's global mask), so no removed object is copied back.
    """
    window = picture[piece.window.slices]
    height, width = window.shape[:2]
    rows, cols = piece.rows - piece.window.top, piece.cols - piece.window.left
    hole = np.zeros((height, width), bool)
    hole[rows, cols] = True
    excluded = pending[piece.window.slices] & ~hole
    filled = patchmatch.inpaint(
        np.ascontiguousarray(window),
        hole.astype(np.uint8),
        global_mask=excluded.astype(np.uint8),
        patch_size=PATCH_RADIUS,
    )
    # Indexed like the piece's pixels, which a split leaves out of row-major order.
    return filled[rows, cols]


def patchmatch_fill(picture: np.ndarray, hole: np.ndarray, seed: int) -> np.ndarray:
    """The hole filled by PatchMatch at this size, piece by piece."""
    height, width = hole.shape
    rows, cols = np.nonzero(hole)
    pieces = split_hole(rows, cols, height, width)
    result = picture.copy()
    pending = hole.copy()
    # Even pieces first, then odd ones, which find both neighbours already filled.
    with _seed_lock, ThreadPoolExecutor(FILL_THREADS) as pool:
        patchmatch.set_random_seed(seed % 2**32)
        for wave in (pieces[0::2], pieces[1::2]):
            fills = list(pool.map(lambda p: fill_piece(result, pending, p), wave))
            for piece, colours in zip(wave, fills):
                result[piece.rows, piece.cols] = colours
                pending[piece.rows, piece.cols] = False
    return result


def opencv_fill(picture: np.ndarray, hole: np.ndarray, seed: int) -> np.ndarray:
    """Navier-Stokes inpainting: fast and smooth; with matched grain so seeds differ."""
    filled = cv2.inpaint(picture, hole.astype(np.uint8), 3, cv2.INPAINT_NS).astype(np.float32)
    filled += matched_grain(picture, ~hole, 0.5, np.random.default_rng(seed))
    result = picture.copy()
    result[hole] = np.clip(filled[hole], 0, 255).astype(np.uint8)
    return result


def patchmatch_ready() -> bool:
    return patchmatch is not None and patchmatch.patchmatch_available


def content_aware_fill(picture: np.ndarray, hole: np.ndarray, seed: int) -> np.ndarray:
    """The picture with the hole filled from the rest of it; other pixels unchanged."""
    if not hole.any():
        return picture.copy()
    if not patchmatch_ready():
        return opencv_fill(picture, hole, seed)
    filled = pyramid_fill(picture, hole, lambda level, level_hole: patchmatch_fill(level, level_hole, seed),
                          working_scale(int(hole.sum())), np.random.default_rng(seed))
    result = seam_blend(picture, filled, hole)
    # Only the hole changes: the levels below full size resample the known pixels too.
    result[~hole] = picture[~hole]
    return result


def styled(picture: np.ndarray, hole: np.ndarray, style: str) -> np.ndarray:
    """Apply the style filter inside the hole, feathered so that no seam shows."""
    if style == "<auto>" or not hole.any():
        return picture
    rows, cols = np.nonzero(hole)
    height, width = hole.shape
    # Filter a window a little larger than the hole so that the filters see context.
    box = bounding_box(rows, cols).grown(16, height, width)
    window = picture[box.slices]
    weight = cv2.GaussianBlur(hole[box.slices].astype(np.float32), (0, 0), STYLE_FEATHER_SIGMA)
    weight = np.maximum(weight, hole[box.slices])[..., None]
    blended = window * (1 - weight) + apply_style(window, style) * weight
    result = picture.copy()
    result[box.slices] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return result


def render(job_input: JobInput, seed: int) -> bytes:
    picture, hole = load_inputs(job_input)
    filled = content_aware_fill(picture, hole, seed)
    # The pixels are still in the picture's own colour space: without its profile a wide-gamut
    # photo (Display P3, Adobe RGB) would show shifted colours next to the original.
    return encode_png(Image.fromarray(styled(filled, hole, job_input.style)), icc_profile=colour_profile(job_input.base_image))


def render_slot(job_input: JobInput, seed: int) -> SlotResult:
    try:
        return SlotResult(content=render(job_input, seed))
    except OfflineEngineError as error:
        return SlotResult(code="OfflineEngineError", message=str(error))
    except Exception as error:  # a slot fails alone; the message names the cause
        return SlotResult(code="OfflineEngineError", message=f"The fill failed: {error}")


# Stored on the job in English and shown in the reader's language (inpaint.stored_messages).
FILL_FAILED_MESSAGE = stored_template(gettext_noop("The offline engine could not paint this picture (%(reason)s). Try another "
                                         "mask."))


class OfflineEngine(Engine):
    key = "offline"
    label = _("Offline (free)")
    remote = False
    follows_prompt = False
    limits = EngineLimits(min_side=1, max_side=WORKING_SIDE, max_bytes=0, max_prompt_chars=800)

    def send_size(self, width: int, height: int) -> tuple[int, int]:
        # The fill works at the region's own resolution; only a region larger than the working
        # size is scaled down, so a small mask on a 24 MP photo costs what it does on 1 MP.
        scale = min(1.0, WORKING_SIDE / max(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))

    def explain_error(self, code: str, message: str) -> str:
        return stored_fill(FILL_FAILED_MESSAGE, reason=message or code)

    def is_configured(self) -> bool:
        # OpenCV is imported above, so its fallback is always there.
        return patchmatch_ready() or hasattr(cv2, "inpaint")

    def submit(self, job_input: JobInput) -> TaskState:
        results = [render_slot(job_input, job_input.seed + slot) for slot in range(job_input.n)]
        failures = [result for result in results if result.failed]
        succeeded = job_input.n - len(failures)
        return TaskState(
            # Like the cloud task: it succeeds when at least one image was made.
            status=TaskStatus.SUCCEEDED if succeeded else TaskStatus.FAILED,
            code=failures[0].code if not succeeded else "",
            message=failures[0].message if not succeeded else "",
            results=results,
            image_count=job_input.n,
            task_metrics={"TOTAL": job_input.n, "SUCCEEDED": succeeded, "FAILED": len(failures)},
        )
