"""The one small interface every inpainting engine implements, and everything the core relies on.

A cloud engine submits a remote task and is polled until it ends; an offline engine does the
work inside ``submit`` and returns a finished ``TaskState`` at once. Either way the engine is
given the job's *work region*: a crop around the painted area, already at the size the engine
asked for through ``send_size``; the core pastes what it returns back into the full picture.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Callable

from django.utils.translation import gettext_noop

from inpaint import options
from inpaint.stored_messages import stored_fill, stored_template

# What an engine's error says when the engine has no explanation of its own: what happened, and what to try.
ENGINE_FAILED_MESSAGE = stored_template(gettext_noop(
    "The engine could not paint this picture (%(reason)s). Try again, or choose another engine."))


class TaskStatus:
    """The remote task statuses of the DashScope task API, used by every engine."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    # The service has paused the task (e.g. for a backlog); it resumes on its own.
    SUSPENDED = "SUSPENDED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"

    ENDED = frozenset({SUCCEEDED, FAILED, CANCELED, UNKNOWN})


class EngineError(Exception):
    """An engine's error answer, or no answer at all.

    ``transient``: trying again later may succeed. ``throttled``: the service said "too many
    requests", so nobody should call it for a while. ``maybe_created``: a create call failed
    after sending, so a task may exist and must not simply be paid for again.
    """

    def __init__(self, *, code: str, message: str, transient: bool = False, throttled: bool = False,
                 maybe_created: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.throttled = throttled
        self.maybe_created = maybe_created


@dataclass(frozen=True)
class EngineLimits:
    """What an engine accepts: sides in pixels (inclusive), file bytes, prompt characters."""

    min_side: int
    max_side: int
    max_bytes: int
    max_prompt_chars: int


@dataclass
class JobInput:
    """What an engine needs to paint one job's work region.

    ``base_image`` is the region of the upright picture (PNG or JPEG bytes) at ``size``;
    ``mask_image`` a single-channel PNG of the same size, 255 = repaint, 0 = keep. ``link``
    turns a storage name into a URL the remote service can fetch, or is None when the app has
    no public address (cloud engines then use DashScope's temporary storage).
    """

    base_image: bytes
    mask_image: bytes
    base_name: str
    mask_name: str
    prompt: str
    style: str = options.STYLE_DEFAULT
    size: tuple[int, int] = (1024, 1024)
    n: int = 1
    seed: int = 0
    link: Callable[[str], str] | None = None
    # What should not appear, for an engine that takes it (sent only when given).
    negative_prompt: str = ""
    # What to do (inpaint.options.FUNCTIONS); for "expand" and "super_resolution" there is no mask
    # (``mask_image`` is empty), and ``function_parameters`` holds the function's own parameters by their API
    # names (the four sides' scales, or the upscale factor).
    function: str = options.FUNCTION_EDIT
    function_parameters: dict[str, float] = field(default_factory=dict)


@dataclass
class SlotResult:
    """One of the n images: a URL to fetch, finished image bytes, or why it failed."""

    url: str = ""
    content: bytes = b""
    code: str = ""
    message: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.code) and not (self.url or self.content)


@dataclass
class TaskState:
    """A snapshot of a task as the engine reports it."""

    status: str
    task_id: str = ""
    request_id: str = ""
    results: list[SlotResult] = field(default_factory=list)
    code: str = ""
    message: str = ""
    submit_time: datetime.datetime | None = None
    scheduled_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    task_metrics: dict | None = None
    image_count: int | None = None

    @property
    def ended(self) -> bool:
        return self.status in TaskStatus.ENDED


@dataclass(frozen=True)
class ListedTask:
    """A task in the service's task list, for settling a submission whose outcome is unknown."""

    task_id: str
    created_ms: int  # the service's gmt_create, in milliseconds since the epoch
    request_id: str = ""


class Engine:
    """Base class of all engines; the core uses nothing that is not declared here.

    ``key`` is the value of the form's ``engine`` field. ``remote`` says whether ``submit``
    calls a paid service (a task that must be polled, or one ``synchronous`` call); such an engine
    declares the account's ``submit_rate`` (submissions a second) and ``running_limit`` (tasks
    in progress), which the admission queue keeps to. ``controls`` are the job form's optional
    controls (inpaint.options.CONTROLS) the engine takes: the page shows only those, and the form
    sends the engine the default of every other one.
    """

    key: str = ""
    label: str = ""
    remote: bool = False
    follows_prompt: bool = True
    # A negative prompt only where the engine's API reads one (the Qwen edit models); a function other than
    # repainting the painted area (and its parameters) only where the API has one (wanx2.1-imageedit).
    controls: frozenset[str] = options.CONTROLS - {"negative_prompt"} - options.FUNCTION_CONTROLS
    limits: EngineLimits
    submit_rate: int = 0
    running_limit: int = 0
    # The output shapes the engine makes, (width, height); None when it keeps the input's shape.
    output_shapes: tuple[tuple[int, int], ...] | None = None
    # True when ``submit`` is one long call that answers with the finished images: billed per call, with no
    # task to poll, cancel or list. Its submit step runs on its own queue (settings.INPAINT_EDIT_QUEUE), and
    # a call whose outcome was lost is never sent again by the app (inpaint.services.recovery).
    synchronous: bool = False
    # How far the shape of an answer may be from the work region's (a share of the aspect ratio) and still
    # be scaled to it; None: only the rounding of an engine that returns the size it was sent.
    answer_aspect_tolerance: float | None = None
    # The service regions (inpaint.engines.service_regions) that offer the engine; None: wherever it runs.
    service_regions: frozenset[str] | None = None

    def is_configured(self) -> bool:
        """True when the server can run this engine now (key set, libraries present)."""
        raise NotImplementedError

    def send_size(self, width: int, height: int) -> tuple[int, int]:
        """The size to send a work region of width × height at (same shape, within the limits)."""
        raise NotImplementedError

    def submit(self, job_input: JobInput) -> TaskState:
        """Start the work. Offline engines return the finished state."""
        raise NotImplementedError

    def poll(self, task_id: str) -> TaskState:
        """One status query of a remote task. Only remote engines are polled."""
        raise NotImplementedError(f"{self.key} finishes inside submit and is never polled")

    def cancel(self, task_id: str) -> None:
        """Cancel a remote task that has not started running."""
        raise NotImplementedError(f"{self.key} has no remote task to cancel")

    def list_tasks(self, *, start: datetime.datetime, end: datetime.datetime) -> list[ListedTask]:
        """The remote tasks created between start and end."""
        raise NotImplementedError(f"{self.key} has no remote tasks to list")

    def explain_error(self, code: str, message: str) -> str:
        """What a non-technical person can do about an error this engine reported (stored, read in their language)."""
        return stored_fill(ENGINE_FAILED_MESSAGE, reason=message or code or "?")
