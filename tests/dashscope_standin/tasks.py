"""Task records and their lifecycle: PENDING → RUNNING (→ SUSPENDED → RUNNING) → SUCCEEDED / FAILED, or CANCELED
while PENDING; the per-model running limit as a FIFO queue; the one-second rate windows; the query and list shapes.

A task stays PENDING until ``pending_seconds`` have passed *and* a running slot of its model is free. It is
RUNNING while its inputs are fetched, checked and its results drawn, for at least ``running_seconds``. A
SUSPENDED task is paused by the service and keeps its running slot (the SDK polls it on, as non-final); its
pause adds to its run. Transitions are computed in time order from wall-clock timestamps, so
``running_timeline`` holds the exact instants though a 20 ms ticker or the next request applies them.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from PIL import Image

from tests.dashscope_standin.wire import CHINA_TZ, ApiError, TaskFailure, format_task_time

# Both hold one of the model's running slots.
ACTIVE_STATUSES = ("RUNNING", "SUSPENDED")
# On a tie the end goes first (the slot it frees may be taken at that same instant), a start last.
END, PAUSE, START = 0, 1, 2


class Knobs(Protocol):
    """The stand-in's settings the lifecycle reads whenever they matter."""

    pending_seconds: float  # read when a task is created
    running_seconds: float  # read when a task starts
    concurrency: dict[str, int]
    fail_slots: dict[int, tuple[str, str]]  # read when a task is created
    result_ttl_seconds: float  # read when a task ends


@dataclass
class TaskOutcome:
    """What a run produced: a whole-task failure, or one PNG / (code, message) per slot."""

    failure: tuple[str, str] | None = None
    slots: list[bytes | tuple[str, str]] = field(default_factory=list)


@dataclass
class TaskRecord:
    task_id: str
    model: str
    input: dict
    parameters: dict
    request_id: str
    created_at: float
    ready_at: float  # created_at + pending_seconds: earliest moment it may start
    forced_failure: tuple[str, str] | None
    failing_slots: dict[int, tuple[str, str]]
    status: str = "PENDING"
    started_at: float | None = None
    ended_at: float | None = None
    running_seconds: float = 0.0
    # A planned pause: `suspend_seconds` long, `suspend_after` seconds into the run.
    suspend_after: float | None = None
    suspend_seconds: float = 0.0
    suspended_at: float | None = None
    resumed_at: float | None = None
    outcome: TaskOutcome | None = None
    outcome_ready_at: float | None = None
    results: list[dict] = field(default_factory=list)
    result_pngs: dict[int, bytes] = field(default_factory=dict)
    results_expire_at: float | None = None
    code: str | None = None
    message: str | None = None
    # The input pictures as the task decoded them (size, mode, format and pixels), for tests to inspect.
    received_base: Image.Image | None = None
    received_mask: Image.Image | None = None

    @property
    def n(self) -> int:
        return self.parameters.get("n", 1)

    @property
    def succeeded_count(self) -> int:
        return len(self.result_pngs)

    def due_end_at(self) -> float | None:
        """When a RUNNING task finishes: after its run and any pause, but never before its outcome exists."""
        if self.outcome_ready_at is None:
            return None
        run = self.running_seconds
        if self.suspend_after is not None:
            run = max(run, self.suspend_after) + self.suspend_seconds
        return max(self.started_at + run, self.outcome_ready_at)

    def due_pause_change_at(self) -> float | None:
        """When a planned pause begins (RUNNING) or ends (SUSPENDED); None when none is due."""
        if self.status == "SUSPENDED":
            return self.suspended_at + self.suspend_seconds
        if self.suspend_after is not None and self.suspended_at is None:
            return self.started_at + self.suspend_after
        return None


class SlidingWindow:
    """Admissions within the last second, for DashScope's per-second rate limits."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def admit(self, now: float, limit: int) -> bool:
        while self._times and self._times[0] <= now - 1.0:
            self._times.popleft()
        if len(self._times) >= limit:
            return False
        self._times.append(now)
        return True


def task_output(task: TaskRecord) -> dict:
    """The ``output`` object of a task query."""
    output = {"task_id": task.task_id, "task_status": task.status, "submit_time": format_task_time(task.created_at)}
    if task.started_at is not None:
        output["scheduled_time"] = format_task_time(task.started_at)
    if task.ended_at is not None:
        output["end_time"] = format_task_time(task.ended_at)
    if task.results:
        output["results"] = [dict(result) for result in task.results]
    failed = task.n if task.status == "FAILED" else len(task.results) - task.succeeded_count
    output["task_metrics"] = {"TOTAL": task.n, "SUCCEEDED": task.succeeded_count, "FAILED": failed}
    if task.code:
        output["code"] = task.code
        output["message"] = task.message
    return output


def list_item(task: TaskRecord, api_key_id: str, account_id: str) -> dict:
    """One task as the list call shows it (times as epoch milliseconds)."""
    item = {
        "task_id": task.task_id,
        "status": task.status,
        "model_name": task.model,
        "region": "cn-beijing",
        "request_id": task.request_id,
        "api_key_id": api_key_id,
        "caller_uid": account_id,
        "caller_parent_id": account_id,
        "user_api_unique_key": f"apikey:v1:aigc:image2image:image-synthesis:{task.model}",
        "gmt_create": int(task.created_at * 1000),
    }
    if task.started_at is not None:
        item["start_time"] = int(task.started_at * 1000)
    if task.ended_at is not None:
        item["end_time"] = int(task.ended_at * 1000)
    return item


def list_time_parse(value: str | None) -> float | None:
    """The list call's ``YYYYMMDDhhmmss`` window bound, in China Standard Time."""
    if not value:
        return None
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=CHINA_TZ).timestamp()


class TaskBoard:
    """Every task of the account, moved along its lifecycle in time order."""

    def __init__(
        self,
        knobs: Knobs,
        lock: threading.RLock,
        models: tuple[str, ...],
        produce: Callable[[TaskRecord], TaskOutcome],
        result_link: Callable[[TaskRecord, int], str],
    ):
        self._knobs = knobs
        self._lock = lock
        self._models = models
        self._produce = produce
        self._result_link = result_link
        self._tasks: dict[str, TaskRecord] = {}
        self._timeline: list[tuple[float, float, str]] = []
        self._slot_freed_at = {model: 0.0 for model in models}
        self._failures: deque[tuple[str, str]] = deque()
        self._suspensions: deque[tuple[float, float]] = deque()

    @property
    def tasks(self) -> dict[str, TaskRecord]:
        with self._lock:
            self.advance()
            return dict(self._tasks)

    @property
    def timeline(self) -> list[tuple[float, float, str]]:
        with self._lock:
            self.advance()
            return sorted(self._timeline)

    def task_get(self, task_id: str) -> TaskRecord | None:
        return self._tasks.get(task_id)

    def query_answer(self, task_id: str) -> dict:
        """A task query's ``output`` (UNKNOWN for a task that does not exist), and ``usage`` once it SUCCEEDED."""
        with self._lock:
            self.advance()
            task = self._tasks.get(task_id)
            if task is None:
                return {"output": {"task_id": task_id, "task_status": "UNKNOWN"}}
            answer = {"output": task_output(task)}
            if task.status == "SUCCEEDED":
                answer["usage"] = {"image_count": task.succeeded_count}
            return answer

    def task_create(self, task_id: str, model: str, input_: dict, parameters: dict, request_id: str, now: float):
        """Queues a new task; an idle slot takes it at once."""
        with self._lock:
            task = TaskRecord(
                task_id=task_id,
                model=model,
                input=input_,
                parameters=parameters,
                request_id=request_id,
                created_at=now,
                ready_at=now + self._knobs.pending_seconds,
                forced_failure=self._failures.popleft() if self._failures else None,
                failing_slots=dict(self._knobs.fail_slots),
            )
            if self._suspensions:
                task.suspend_seconds, task.suspend_after = self._suspensions.popleft()
            self._tasks[task_id] = task
            self.advance(now)
            return task

    def failures_queue(self, count: int, code: str, message: str) -> None:
        with self._lock:
            self._failures.extend((code, message) for _ in range(count))

    def suspensions_queue(self, count: int, seconds: float, after: float) -> None:
        with self._lock:
            self._suspensions.extend((seconds, after) for _ in range(count))

    def task_suspend(self, task_id: str, seconds: float) -> None:
        """Pauses a RUNNING task now, or a PENDING one as it starts."""
        with self._lock:
            now = time.time()
            self.advance(now)
            task = self._tasks.get(task_id)
            if task is None or task.status not in ("PENDING", "RUNNING") or task.suspend_after is not None:
                raise ValueError(f"task {task_id} cannot be suspended now: {task and task.status}")
            task.suspend_after = 0.0 if task.status == "PENDING" else now - task.started_at
            task.suspend_seconds = seconds

    def task_cancel(self, task_id: str) -> None:
        with self._lock:
            now = time.time()
            self.advance(now)
            task = self._tasks.get(task_id)
            if task is None or task.status != "PENDING":
                raise ApiError(400, "UnsupportedOperation", "The operation is unsupported on the referee object.")
            task.status = "CANCELED"
            task.ended_at = now

    def running_end_now(self) -> None:
        with self._lock:
            now = time.time()
            self.advance(now)
            for task in self._tasks.values():
                if task.status == "RUNNING":
                    task.running_seconds = now - task.started_at

    def results_expire(self) -> None:
        with self._lock:
            now = time.time()
            self.advance(now)
            for task in self._tasks.values():
                if task.results_expire_at is not None:
                    task.results_expire_at = min(task.results_expire_at, now)

    def list_page(self, query: dict[str, str], api_key_id: str, account_id: str) -> dict:
        """One page of the list call: tasks newest first, filtered by its window, model and status."""
        try:
            page_no = int(query.get("page_no") or 1)
            page_size = int(query.get("page_size") or 10)
            window_start = list_time_parse(query.get("start_time"))
            window_end = list_time_parse(query.get("end_time"))
        except ValueError:
            raise ApiError(400, "InvalidParameter", "Invalid page_no, page_size, start_time or end_time") from None
        if page_no < 1 or page_size < 1:
            raise ApiError(400, "InvalidParameter", "page_no and page_size must be positive")
        with self._lock:
            self.advance()
            matching = [
                task
                for task in reversed(self._tasks.values())
                if (window_start is None or task.created_at >= window_start)
                and (window_end is None or task.created_at <= window_end)
                and query.get("model_name") in (None, "", task.model)
                and query.get("status") in (None, "", task.status)
            ]
            page = matching[(page_no - 1) * page_size : page_no * page_size]
            return {
                "data": [list_item(task, api_key_id, account_id) for task in page],
                "total": len(matching),
                "total_page": -(-len(matching) // page_size),
                "page_no": page_no,
                "page_size": page_size,
            }

    # ---------------------------------------------------------------- lifecycle

    def advance(self, now: float | None = None) -> None:
        """Applies every transition due by `now` in time order, stamping each with the instant it was due.

        `now` must be read under the lock so successive advances never go back in time.
        """
        with self._lock:
            now = time.time() if now is None else now
            for model in self._models:
                while self._next_transition_apply(model, now):
                    pass

    def _next_transition_apply(self, model: str, now: float) -> bool:
        active = [t for t in self._tasks.values() if t.model == model and t.status in ACTIVE_STATUSES]
        events = []
        for task in active:
            if (pause_change := task.due_pause_change_at()) is not None:
                events.append((pause_change, PAUSE, task))
            elif (end := task.due_end_at()) is not None:
                events.append((end, END, task))
        if len(active) < self._knobs.concurrency.get(model, 1):
            head = next((t for t in self._tasks.values() if t.model == model and t.status == "PENDING"), None)
            if head is not None:
                events.append((max(head.ready_at, self._slot_freed_at[model]), START, head))
        due = min(events, key=lambda event: event[:2], default=None)
        if due is None or due[0] > now:
            return False
        at, kind, task = due
        {END: self._finish, PAUSE: self._pause_toggle, START: self._start}[kind](task, at)
        return True

    def _start(self, task: TaskRecord, at: float) -> None:
        task.status = "RUNNING"
        task.started_at = at
        task.running_seconds = self._knobs.running_seconds
        # Inputs are fetched once the task runs, not at submission, so the app's input links must stay valid
        # for as long as a task may wait in the queue.
        threading.Thread(target=self._run, args=(task,), name=f"task-{task.task_id}", daemon=True).start()

    @staticmethod
    def _pause_toggle(task: TaskRecord, at: float) -> None:
        if task.status == "SUSPENDED":
            task.status, task.resumed_at = "RUNNING", at
        else:
            task.status, task.suspended_at = "SUSPENDED", at

    def _run(self, task: TaskRecord) -> None:
        try:
            outcome = self._produce(task)
        except TaskFailure as failure:
            outcome = TaskOutcome(failure=(failure.code, failure.message))
        except Exception as error:  # a stand-in bug must end the task, not leave it RUNNING forever
            traceback.print_exc()
            outcome = TaskOutcome(failure=("InternalError", f"DashScope stand-in bug: {error!r}"))
        with self._lock:
            task.outcome = outcome
            task.outcome_ready_at = time.time()
            self.advance(task.outcome_ready_at)

    def _finish(self, task: TaskRecord, at: float) -> None:
        task.ended_at = at
        self._slot_freed_at[task.model] = at
        self._timeline.append((task.started_at, at, task.task_id))
        outcome = task.outcome
        if outcome.failure:
            task.status = "FAILED"
            task.code, task.message = outcome.failure
            return
        task.results_expire_at = at + self._knobs.result_ttl_seconds
        for slot, produced in enumerate(outcome.slots):
            if isinstance(produced, bytes):
                task.result_pngs[slot] = produced
                task.results.append({"url": self._result_link(task, slot)})
            else:
                task.results.append({"code": produced[0], "message": produced[1]})
        if task.result_pngs:
            task.status = "SUCCEEDED"
        else:
            task.status = "FAILED"
            task.code, task.message = outcome.slots[0]
