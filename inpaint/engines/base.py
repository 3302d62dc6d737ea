"""The one small interface every inpainting engine implements.

A cloud engine submits a remote task and is polled until it ends; an offline engine
does the work inside ``submit`` and returns a finished ``TaskState`` at once. The job
lifecycle in ``inpaint.services`` is the same for both.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Callable


class TaskStatus:
    """The remote task statuses of the DashScope task API, used by every engine."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"

    ENDED = frozenset({SUCCEEDED, FAILED, CANCELED, UNKNOWN})


@dataclass(frozen=True)
class EngineLimits:
    """Input limits an engine accepts; sides are pixels, inclusive bounds."""

    min_side: int
    max_side: int
    max_bytes: int
    max_prompt_chars: int


@dataclass
class JobInput:
    """What an engine needs to paint one job.

    ``base_image`` is the stored upright picture (JPEG or PNG bytes); ``mask_image`` is
    a single-channel PNG of the same size, 255 = repaint, 0 = keep. ``link`` turns a
    storage name into a URL the remote service can fetch, or is None when the app
    has no public address (cloud engines then use DashScope's temporary storage).
    """

    base_image: bytes
    mask_image: bytes
    base_name: str
    mask_name: str
    prompt: str
    style: str = "<auto>"
    size: str = "1024*1024"
    n: int = 1
    seed: int = 0
    link: Callable[[str], str] | None = None


@dataclass
class SlotResult:
    """One of the n images: a URL to fetch, finished PNG bytes, or why it failed."""

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


class Engine:
    """Base class of all engines.

    ``key`` is the value of the form's ``engine`` field; ``remote`` says whether
    ``submit`` starts a task that must be polled (and may be paid for).
    """

    key: str = ""
    label: str = ""
    remote: bool = False
    follows_prompt: bool = True
    limits: EngineLimits

    def is_configured(self) -> bool:
        """True when the server can run this engine now (key set, libraries present)."""
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
