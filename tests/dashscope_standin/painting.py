"""The pictures a finished task returns, drawn like a real model's: at the model's output size, with the masked
area repainted and the rest *not* left alone.

A real inpainting model re-renders the whole frame, so the pixels it was told to keep come back slightly
changed. The stand-in makes that visible on purpose, so a test can prove the app never lets it through:
every pixel outside the mask gets a small colour shift (:func:`shift_colour`), and bright squares in
:data:`MARK_COLOUR` are drawn near the four corners (:func:`mark_boxes`) wherever the mask does not cover them.
Inside the mask each slot is one flat colour, :func:`fill_colour` of the prompt and slot.

The wanx2.1-imageedit functions without a mask (``expand``, ``super_resolution``, ``remove_watermark``) give the
whole input back recoloured the same way, enlarged as the function says (:func:`whole_image_draw`).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable

import numpy as np
from PIL import Image

from tests.dashscope_standin.tasks import TaskOutcome, TaskRecord
from tests.dashscope_standin.validation import (
    EXPAND_SCALE_RANGE,
    EXPAND_SCALES,
    MODEL_RULES,
    UPSCALE_FACTOR_RANGE,
    WANX_X_PAINTING,
    X_PAINTING_DEFAULT_SIZE,
    input_image_decode,
    inputs_match_check,
    task_input_names,
)
from tests.dashscope_standin.wire import TaskFailure

MARK_COLOUR = (255, 0, 255)
# Warmer outside the mask; large enough to see in a diff, small enough to pass for a model's drift.
OUTSIDE_SHIFT = (12, 8, -12)
# JPEG-compressed masks never reproduce a colour exactly, so mask_color matching allows this per-channel slack.
MASK_COLOUR_TOLERANCE = 8
# How far (per channel, either way) an expanded band's pixels stray from the edge they continue.
EXPAND_NOISE = 6


def fill_colour(prompt: str, slot: int) -> tuple[int, int, int]:
    """The flat colour the stand-in paints into the masked region of result `slot` for `prompt`."""
    digest = hashlib.sha256(f"{prompt}\x00{slot}".encode()).digest()
    return digest[0], digest[1], digest[2]


def shift_colour(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """What an input pixel of `colour` outside the mask (and off the marks) becomes in a result."""
    return tuple(min(255, max(0, channel + shift)) for channel, shift in zip(colour, OUTSIDE_SHIFT))


def mark_boxes(size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of the four squares drawn near the corners of a result of `size`."""
    width, height = size
    side = max(4, min(width, height) // 32)
    inset = max(2, min(width, height) // 64)
    lefts, tops = (inset, width - inset - side), (inset, height - inset - side)
    return [(left, top, left + side, top + side) for top in tops for left in lefts]


def output_size(model: str, parameters: dict, base_size: tuple[int, int]) -> tuple[int, int]:
    """wanx-x-painting answers at the requested ``size`` (section 7.1); wanx2.1-imageedit at its input's size."""
    if model == WANX_X_PAINTING:
        width, height = parameters.get("size", X_PAINTING_DEFAULT_SIZE).split("*")
        return int(width), int(height)
    return base_size


def mask_region(mask: Image.Image, mask_color: list[list[int]]) -> np.ndarray:
    """Boolean map of pixels to repaint: white after binarising, or any of the listed colours."""
    if not mask_color:
        return np.asarray(mask.convert("L")) >= 128
    rgb = np.asarray(mask.convert("RGB")).astype(np.int16)
    region = np.zeros(rgb.shape[:2], dtype=bool)
    for colour in mask_color:
        region |= (np.abs(rgb - np.array(colour, dtype=np.int16)) <= MASK_COLOUR_TOLERANCE).all(axis=2)
    return region


def kept_recolour(pixels: np.ndarray) -> np.ndarray:
    """Pixels a model was told to keep, as it gives them back: each moved by :func:`shift_colour`."""
    return np.clip(pixels.astype(np.int16) + np.array(OUTSIDE_SHIFT, dtype=np.int16), 0, 255).astype(np.uint8)


def png_encode(pixels: np.ndarray) -> bytes:
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG", compress_level=1)
    return png.getvalue()


def slots_draw(
    n: int, failing_slots: dict[int, tuple[str, str]], draw: Callable[[int], np.ndarray]
) -> list[bytes | tuple[str, str]]:
    """One PNG of ``draw(slot)`` per slot, or the (code, message) of a slot told to fail."""
    return [tuple(failing_slots[slot]) if slot in failing_slots else png_encode(draw(slot)) for slot in range(n)]


def results_paint(
    model: str,
    parameters: dict,
    prompt: str,
    base: Image.Image,
    mask: Image.Image,
    failing_slots: dict[int, tuple[str, str]],
) -> list[bytes | tuple[str, str]]:
    """The masked edit: one PNG per slot, or the (code, message) of a slot told to fail."""
    size = output_size(model, parameters, base.size)
    region = mask_region(mask.resize(size, Image.Resampling.NEAREST), parameters.get("mask_color", []))
    outside = kept_recolour(np.asarray(base.convert("RGB").resize(size, Image.Resampling.BICUBIC)))
    marks = np.zeros(region.shape, dtype=bool)
    for left, top, right, bottom in mark_boxes(size):
        marks[top:bottom, left:right] = True
    outside[marks & ~region] = MARK_COLOUR

    def paint(slot: int) -> np.ndarray:
        pixels = outside.copy()
        pixels[region] = fill_colour(prompt, slot)
        return pixels

    return slots_draw(parameters.get("n", 1), failing_slots, paint)


def expand_bands(size: tuple[int, int], parameters: dict) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) widths in pixels of the bands ``expand`` adds: each side's scale minus one,
    times the input's width or height, rounded to whole pixels."""
    width, height = size
    top, bottom, left, right = (parameters.get(name, EXPAND_SCALE_RANGE[0]) - 1 for name in EXPAND_SCALES)
    return round(width * left), round(height * top), round(width * right), round(height * bottom)


def whole_image_size(function: str, parameters: dict, size: tuple[int, int]) -> tuple[int, int]:
    """The result size of a function without a mask: expanded, upscaled, or the input's own."""
    width, height = size
    if function == "expand":
        left, top, right, bottom = expand_bands(size, parameters)
        return width + left + right, height + top + bottom
    if function == "super_resolution":
        factor = parameters.get("upscale_factor", UPSCALE_FACTOR_RANGE[0])
        return width * factor, height * factor
    return size


def whole_image_draw(
    function: str, parameters: dict, base: Image.Image, failing_slots: dict[int, tuple[str, str]], max_side: int
) -> list[bytes | tuple[str, str]]:
    """``expand``, ``super_resolution`` or ``remove_watermark``: the whole input comes back recoloured
    (:func:`shift_colour`), at :func:`whole_image_size`; ``expand`` fills its new bands with the input's edge
    pixels plus noise seeded by ``seed`` and slot, as an outpainting model continues the picture."""
    size = whole_image_size(function, parameters, base.size)
    if max(size) > max_side:
        # The output cap is not documented (reference section 11); the stand-in refuses to promise more than
        # the model takes as input, so a client never counts on it.
        raise TaskFailure(
            "InvalidParameter", f"The output resolution {size[0]}*{size[1]} exceeds {max_side} pixels a side"
        )
    kept = kept_recolour(np.asarray(base.convert("RGB").resize(base.size if function == "expand" else size)))
    if function != "expand":
        return slots_draw(parameters.get("n", 1), failing_slots, lambda slot: kept)
    left, top, right, bottom = expand_bands(base.size, parameters)
    extended = np.pad(kept, ((top, bottom), (left, right), (0, 0)), mode="edge").astype(np.int16)
    band = np.ones(extended.shape[:2], dtype=bool)
    band[top : top + base.height, left : left + base.width] = False

    def outpaint(slot: int) -> np.ndarray:
        noise = np.random.default_rng([parameters.get("seed", 0), slot]).integers(
            -EXPAND_NOISE, EXPAND_NOISE, extended.shape, endpoint=True
        )
        pixels = extended.copy()
        pixels[band] += noise[band]
        return np.clip(pixels, 0, 255).astype(np.uint8)

    return slots_draw(parameters.get("n", 1), failing_slots, outpaint)


def task_outcome_produce(task: TaskRecord, fetch: Callable[[str, str], bytes], lock: threading.RLock) -> TaskOutcome:
    """A task's run: fetch (model, url → bytes) and check its inputs, record them as received, draw the results."""
    if task.forced_failure:
        return TaskOutcome(failure=task.forced_failure)
    rules = MODEL_RULES[task.model]
    received = {
        name: input_image_decode(fetch(task.model, task.input[name]), name, rules)
        for name in task_input_names(task.model, task.input)
    }
    base, mask = received["base_image_url"], received.get("mask_image_url")
    with lock:
        task.received_base, task.received_mask = base, mask
    if mask is None:
        function = task.input["function"]
        return TaskOutcome(slots=whole_image_draw(function, task.parameters, base, task.failing_slots, rules.max_side))
    inputs_match_check(base, mask)
    slots = results_paint(task.model, task.parameters, task.input["prompt"], base, mask, task.failing_slots)
    return TaskOutcome(slots=slots)
