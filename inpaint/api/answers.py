"""The gateway's answers in DashScope's own JSON shapes (reference §2): a task as ``output`` with its status,
times, results and metrics, ``usage.image_count``, and errors as ``{code, message, request_id}``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from django.http import JsonResponse
from django.utils.translation import gettext

from inpaint.engines.base import TaskStatus
from inpaint.engines.dashscope import SERVICE_TIMEZONE, TIME_FORMAT
from inpaint.models import InpaintJob, JobResult
from inpaint.stored_messages import stored_translate

Status = InpaintJob.Status
# What a job's status is in DashScope's words; a job sent on is as far as its remote task says (below).
TASK_STATUSES = {Status.QUEUED: TaskStatus.PENDING, Status.RUNNING: TaskStatus.RUNNING,
                 Status.SUCCEEDED: TaskStatus.SUCCEEDED, Status.FAILED: TaskStatus.FAILED,
                 Status.CANCELED: TaskStatus.CANCELED}
# The remote statuses that say a sent job's task has not started.
REMOTE_NOT_STARTED = frozenset({"", TaskStatus.PENDING})
# What a failed job says when it stored no code of its own.
FAILED_CODE = "InternalError"


class ApiRefusal(Exception):
    """A request the gateway answers with a DashScope error: HTTP ``status``, ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def answer(payload: dict, status: int = 200) -> JsonResponse:
    """A DashScope answer: ``payload`` with a fresh request_id, JSON in UTF-8 as the service writes it."""
    return JsonResponse({**payload, "request_id": str(uuid.uuid4())}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def refusal_answer(refusal: ApiRefusal) -> JsonResponse:
    return answer({"code": refusal.code, "message": refusal.message}, status=refusal.status)


def task_status(job: InpaintJob) -> str:
    if job.status == Status.SUBMITTED:
        if job.is_suspended:
            return TaskStatus.SUSPENDED
        return TaskStatus.PENDING if job.remote_status in REMOTE_NOT_STARTED else TaskStatus.RUNNING
    return TASK_STATUSES[job.status]


def _service_time(moment) -> str | None:
    # DashScope's "YYYY-MM-DD HH:mm:ss.SSS", in the Beijing time it reports in.
    return moment.astimezone(SERVICE_TIMEZONE).strftime(TIME_FORMAT)[:-3] if moment else None


def task_output(job: InpaintJob, result_link: Callable[[JobResult], str]) -> dict:
    """What ``GET /tasks/{id}`` answers for the job; ``result_link`` gives each stored result's URL."""
    status = task_status(job)
    output = {"task_id": str(job.pk), "task_status": status, "submit_time": _service_time(job.created_at),
              "scheduled_time": _service_time(job.started_at or job.submitted_at),
              "end_time": _service_time(job.finished_at)}
    payload: dict = {"output": output}
    if status == TaskStatus.SUCCEEDED:
        results = [{"url": result_link(result)} if result.image else
                   {"code": result.error_code or FAILED_CODE, "message": stored_translate(result.error_message)}
                   for result in job.results.order_by("slot")]
        succeeded = sum("url" in result for result in results)
        output.update(results=results, task_metrics={"TOTAL": job.n, "SUCCEEDED": succeeded,
                                                     "FAILED": job.n - succeeded})
        payload["usage"] = {"image_count": succeeded}
    elif status == TaskStatus.FAILED:
        output.update(code=job.error_code or FAILED_CODE, message=stored_translate(job.error_message))
    return payload


def json_body(body: bytes) -> dict:
    """The request's JSON object; raises ApiRefusal as DashScope does for a body it cannot read."""
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        parsed = None
    if not isinstance(parsed, dict):
        raise ApiRefusal(400, "InvalidParameter", gettext("Required body invalid, please check the request body format."))
    return parsed
