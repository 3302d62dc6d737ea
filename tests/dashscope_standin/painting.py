"""The pictures a finished task returns, drawn like a real model's: at the model's output size, with the masked
area repainted and the rest *not* left alone.

A real inpainting model re-renders the whole frame, so the pixels it was told to keep come back slightly
changed. The stand-in makes that visible on purpose, so a test can prove the app never lets it through:
every pixel outside the mask gets a small colour shift (:func:`shift_colour`), and bright squares in
:data:`MARK_COLOUR` are drawn near the four corners (:func:`mark_boxes`) wherever the mask does not cover them.
Inside the mask each slot is one flat colour, :func:`fill_colour` of the prompt and slot.
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
    WANX_X_PAINTING,
    X_PAINTING_DEFAULT_SIZE,
    input_image_decode,
    inputs_match_check,
)

MARK_COLOUR = (255, 0, 255)
# Warmer outside the mask; large enough to see in a diff, small enough to pass for a model's drift.
OUTSIDE_SHIFT = (12, 8, -12)
# JPEG-compressed masks never reproduce a colour exactly, so mask_color matching allows this per-channel slack.
MASK_COLOUR_TOLERANCE = 8


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


def results_paint(
    model: str,
    parameters: dict,
    prompt: str,
    base: Image.Image,
    mask: Image.Image,
    failing_slots: dict[int, tuple[str, str]],
) -> list[bytes | tuple[str, str]]:
    """One PNG per slot, or the (code, message) of a slot told to fail."""
    size = output_size(model, parameters, base.size)
    region = mask_region(mask.resize(size, Image.Resampling.NEAREST), parameters.get("mask_color", []))
    scaled = np.asarray(base.convert("RGB").resize(size, Image.Resampling.BICUBIC), dtype=np.int16)
    outside = np.clip(scaled + np.array(OUTSIDE_SHIFT, dtype=np.int16), 0, 255).astype(np.uint8)
    marks = np.zeros(region.shape, dtype=bool)
    for left, top, right, bottom in mark_boxes(size):
        marks[top:bottom, left:right] = True
    outside[marks & ~region] = MARK_COLOUR
    slots: list[bytes | tuple[str, str]] = []
    for slot in range(parameters.get("n", 1)):
        if slot in failing_slots:
            slots.append(tuple(failing_slots[slot]))
            continue
        pixels = outside.copy()
        pixels[region] = fill_colour(prompt, slot)
        png = io.BytesIO()
        Image.fromarray(pixels).save(png, format="PNG", compress_level=1)
        slots.append(png.getvalue())
    return slots


def task_outcome_produce(task: TaskRecord, fetch: Callable[[str, str], bytes], lock: threading.RLock) -> TaskOutcome:
    """A task's run: fetch (model, url → bytes) and check its inputs, record them as received, draw the results."""
    if task.forced_failure:
        return TaskOutcome(failure=task.forced_failure)
    base, mask = (
        input_image_decode(fetch(task.model, task.input[name]), name, task.model)
        for name in ("base_image_url", "mask_image_url")
    )
    with lock:
        task.received_base, task.received_mask = base, mask
    inputs_match_check(base, mask)
    slots = results_paint(task.model, task.parameters, task.input["prompt"], base, mask, task.failing_slots)
    return TaskOutcome(slots=slots)
