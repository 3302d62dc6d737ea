"""Qwen-Image-Edit's synchronous call, ``POST /api/v1/services/aigc/multimodal-generation/generation`` for
``qwen-image-edit-plus`` and ``qwen-image-edit-max`` (reference sections 7.3 and 11): what it accepts, how long
it blocks, its running limit, and the pictures it answers with.

The call is refused with the async header, checks its body before any work, then holds its model's running
slot while it fetches and decodes the images, draws the answer and waits out ``generation_seconds`` (so a test
can kill a caller mid-call); the answer is billed once drawn, whether or not the caller is still there.

The pictures drift the way the real model's do (QwenLM/Qwen-Image #160, #229), so a client that pastes a whole
answer back visibly changes pixels it meant to keep:

- the size is ``size`` rounded to multiples of :data:`SIZE_STEP`; without ``size`` it is about
  :data:`AUTO_AREA` pixels, each side rounded to a multiple of :data:`AUTO_STEP` (as the open pipeline does)
  and kept within the ``size`` range, so the aspect is close to the last input image's but seldom equal;
- the last input image, scaled to that size, is zoomed by :data:`ZOOM` about the centre and shifted by 1 or
  2 px on each axis, either way: :func:`answer_drift` of the prompt, ``seed`` and slot, so the same call draws
  the same answer and each slot drifts on its own (:func:`answer_point` says where an input point lands);
- every pixel is then recoloured by :func:`~tests.dashscope_standin.painting.shift_colour`.

Where the reference is silent the stand-in chooses the strict reading: input sides outside the recommended
384–3072 px are refused, a text past 800 characters is truncated as the wanx models' prompts are, and a call
beyond its model's running limit gets 429 ``Throttling`` at once rather than a queue.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from tests.dashscope_standin.painting import kept_recolour, png_encode
from tests.dashscope_standin.validation import (ModelRules, body_envelope_check, input_image_decode, json_body_check,
                                                n_check, seed_check, url_check)
from tests.dashscope_standin.wire import ApiError, RecordedRequest, TaskFailure

QWEN_EDIT_PLUS = "qwen-image-edit-plus"
QWEN_EDIT_MAX = "qwen-image-edit-max"
GENERATION_MODELS = (QWEN_EDIT_PLUS, QWEN_EDIT_MAX)
GENERATION_PATH = re.compile(r"^/api/v1/services/aigc/multimodal-generation/generation$")
# The documented per-side range is a recommendation; the stand-in holds clients to it.
QWEN_RULES = ModelRules(
    max_prompt_chars=800,
    min_side=384,
    max_side=3072,
    side_rule="between 384 and 3072",
    image_formats=("JPEG", "PNG", "BMP", "TIFF", "WEBP", "GIF"),
    accepts_data_uri=True,
)
MAX_IMAGES = 3
MAX_N = 6
MAX_NEGATIVE_PROMPT_CHARS = 500
SIZE_RANGE = (512, 2048)
SIZE_STEP = 16
AUTO_AREA = 1024 * 1024
AUTO_STEP = 32
ZOOM = 1.01
SHIFT_PIXELS = (1, 2)
MSG_THROTTLED = "Requests throttling triggered."
# What a failed run answers the caller with, by the failure's code (reference section 5).
FAILURE_STATUS = {"InvalidParameter": 400, "BadRequest.InputDownloadFailed": 415}


class Knobs(Protocol):
    """The stand-in's settings a call reads when it starts."""

    generation_seconds: float
    concurrency: dict[str, int]
    result_ttl_seconds: float


@dataclass
class GenerationRecord:
    """One synchronous call. Its result links are built like a task's, so `task_id` is the id they carry."""

    task_id: str
    model: str
    images: list[str]
    text: str
    parameters: dict
    request_id: str
    started_at: float
    ended_at: float | None = None
    code: str | None = None  # of a call that failed once running
    results_expire_at: float | None = None
    result_pngs: dict[int, bytes] = field(default_factory=dict)
    # The input pictures as the call decoded them, for tests to inspect.
    received_images: list[Image.Image] = field(default_factory=list)


def generation_request_check(request: RecordedRequest) -> dict:
    """The gateway's checks of the call's headers and JSON; returns the body."""
    if request.headers.get("X-DashScope-Async") == "enable":
        raise ApiError(403, "AccessDenied", "current user api does not support asynchronous calls")
    return json_body_check(request)


def generation_body_validate(body: dict, oss_resolve: bool) -> tuple[str, list[str], str, dict]:
    """Checks a body as the service does before running. Returns (model, image URLs, text truncated as the
    service does, parameters)."""
    model, input_, parameters = body_envelope_check(body, GENERATION_MODELS)
    messages = input_.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "InvalidParameter", "Field required: input.messages")
    message = messages[0]
    if len(messages) != 1 or not isinstance(message, dict) or message.get("role") != "user":
        raise ApiError(400, "InvalidParameter", "The input.messages must hold exactly one message of role user")
    content = message.get("content")
    items = content if isinstance(content, list) else []
    images = [item["image"] for item in items if isinstance(item, dict) and set(item) == {"image"}]
    texts = [item["text"] for item in items if isinstance(item, dict) and set(item) == {"text"}]
    if len(images) + len(texts) != len(items) or not 1 <= len(images) <= MAX_IMAGES or len(texts) != 1:
        raise ApiError(
            400, "InvalidParameter", f"The content must hold 1 to {MAX_IMAGES} image items and exactly one text item"
        )
    for index, url in enumerate(images):
        url_check(url, f"input.messages[0].content[{index}].image", QWEN_RULES.accepts_data_uri, oss_resolve)
    text = texts[0]
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "InvalidParameter", "Field required: input.messages[0].content.text")
    _parameters_check(parameters)
    return model, images, text[: QWEN_RULES.max_prompt_chars], dict(parameters)


def _parameters_check(parameters: dict) -> None:
    n_check(parameters, MAX_N)
    seed_check(parameters)
    negative_prompt = parameters.get("negative_prompt", "")
    if not isinstance(negative_prompt, str) or len(negative_prompt) > MAX_NEGATIVE_PROMPT_CHARS:
        raise ApiError(
            400, "InvalidParameter", f"The negative_prompt must be text of at most {MAX_NEGATIVE_PROMPT_CHARS} chars"
        )
    for name in ("prompt_extend", "watermark"):
        if not isinstance(parameters.get(name, False), bool):
            raise ApiError(400, "InvalidParameter", f"The {name} must be a boolean")
    if "size" in parameters:
        size_parse(parameters["size"])


def size_parse(size: object) -> tuple[int, int]:
    """A ``"W*H"`` size with each side in :data:`SIZE_RANGE`, rounded to multiples of :data:`SIZE_STEP`."""
    sides = size.split("*") if isinstance(size, str) else []
    if len(sides) != 2 or not all(side.isdigit() and SIZE_RANGE[0] <= int(side) <= SIZE_RANGE[1] for side in sides):
        low, high = SIZE_RANGE
        raise ApiError(400, "InvalidParameter", f"The size must be 'width*height' with each side in [{low}, {high}]")
    width, height = (_round_to(int(side), SIZE_STEP) for side in sides)
    return width, height


def _round_to(value: float, step: int) -> int:
    """`value` rounded to a multiple of `step`, kept within :data:`SIZE_RANGE`."""
    return min(SIZE_RANGE[1], max(SIZE_RANGE[0], step * round(value / step)))


def answer_size(parameters: dict, last_image_size: tuple[int, int]) -> tuple[int, int]:
    """The answer's size: ``size`` as asked, else about :data:`AUTO_AREA` at nearly the last image's aspect."""
    if "size" in parameters:
        return size_parse(parameters["size"])
    aspect = last_image_size[0] / last_image_size[1]
    width = math.sqrt(AUTO_AREA * aspect)
    return _round_to(width, AUTO_STEP), _round_to(width / aspect, AUTO_STEP)


def answer_drift(prompt: str, seed: int | None, slot: int) -> tuple[int, int]:
    """(dx, dy): how far answer `slot` is shifted, 1 or 2 px on each axis, either way."""
    digest = hashlib.sha256(f"{prompt}\x00{seed}\x00{slot}".encode()).digest()
    return tuple(SHIFT_PIXELS[digest[axis] % 2] * (1 if digest[axis + 2] % 2 else -1) for axis in (0, 1))


def answer_point(
    point: tuple[float, float], image_size: tuple[int, int], size: tuple[int, int], drift: tuple[int, int]
) -> tuple[float, float]:
    """Where `point` of a last input image of `image_size` lands in an answer of `size` drawn with `drift`."""
    return tuple(
        (coordinate * side / image_side - side / 2) * ZOOM + side / 2 + shift
        for coordinate, image_side, side, shift in zip(point, image_size, size, drift)
    )


def answer_draw(image: Image.Image, size: tuple[int, int], drift: tuple[int, int]) -> np.ndarray:
    scaled = image.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    (centre_x, centre_y), (dx, dy) = (side / 2 for side in size), drift
    # PIL's affine maps each answer pixel back to the scaled image: the inverse of zoom-about-centre-then-shift.
    inverse = (1 / ZOOM, 0, centre_x - (centre_x + dx) / ZOOM, 0, 1 / ZOOM, centre_y - (centre_y + dy) / ZOOM)
    drifted = scaled.transform(size, Image.Transform.AFFINE, inverse, Image.Resampling.BICUBIC)
    return kept_recolour(np.asarray(drifted))


class Generations:
    """Every synchronous call of the account, its model's running limit, and the answers it drew."""

    def __init__(
        self,
        knobs: Knobs,
        lock: threading.RLock,
        fetch: Callable[[str, str], bytes],
        wait: Callable[[float], bool],
        result_link: Callable[[GenerationRecord, int], str],
    ):
        self._knobs = knobs
        self._lock = lock
        self._fetch = fetch
        self._wait = wait  # waits up to the given seconds, ending early when the stand-in stops
        self._result_link = result_link
        self._records: dict[str, GenerationRecord] = {}
        self.answered = 0
        self.throttled = 0

    @property
    def records(self) -> dict[str, GenerationRecord]:
        with self._lock:
            return dict(self._records)

    def record_get(self, task_id: str) -> GenerationRecord | None:
        return self._records.get(task_id)

    def results_expire(self) -> None:
        with self._lock:
            now = time.time()
            for record in self._records.values():
                if record.results_expire_at is not None:
                    record.results_expire_at = min(record.results_expire_at, now)

    def generation_call(self, model: str, images: list[str], text: str, parameters: dict, request_id: str) -> dict:
        """Runs one call to its end, blocking the caller as the service does; returns the answer body."""
        with self._lock:
            running = sum(1 for r in self._records.values() if r.model == model and r.ended_at is None)
            if running >= self._knobs.concurrency.get(model, 1):
                self.throttled += 1
                raise ApiError(429, "Throttling", MSG_THROTTLED)
            record = GenerationRecord(str(uuid.uuid4()), model, images, text, parameters, request_id, time.time())
            self._records[record.task_id] = record
            ends_at = record.started_at + self._knobs.generation_seconds
        try:
            pngs, size = self._draw(record)
        except Exception as error:  # a failed call, or a stand-in bug, must still free its running slot
            with self._lock:
                record.ended_at, record.code = time.time(), getattr(error, "code", "InternalError")
            if isinstance(error, TaskFailure):
                raise ApiError(FAILURE_STATUS.get(error.code, 400), error.code, error.message) from None
            raise
        self._wait(max(0.0, ends_at - time.time()))
        with self._lock:
            record.ended_at = time.time()
            record.results_expire_at = record.ended_at + self._knobs.result_ttl_seconds
            record.result_pngs = dict(enumerate(pngs))
            self.answered += 1
        content = [{"image": self._result_link(record, slot)} for slot in record.result_pngs]
        return {
            "output": {
                "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": content}}]
            },
            "usage": {"image_count": len(content), "width": size[0], "height": size[1]},
            "request_id": request_id,
        }

    def _draw(self, record: GenerationRecord) -> tuple[list[bytes], tuple[int, int]]:
        pictures = [
            input_image_decode(self._fetch(record.model, url), f"image {index + 1}", QWEN_RULES)
            for index, url in enumerate(record.images)
        ]
        with self._lock:
            record.received_images = pictures
        # The answer follows the last image (reference section 7.3).
        size = answer_size(record.parameters, pictures[-1].size)
        seed = record.parameters.get("seed")
        drifts = (answer_drift(record.text, seed, slot) for slot in range(record.parameters.get("n", 1)))
        return [png_encode(answer_draw(pictures[-1], size, drift)) for drift in drifts], size
