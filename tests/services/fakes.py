"""What the service tests share: a faked cloud engine, and job requests and the jobs the real job_create makes
of them."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from inpaint import options
from inpaint.engines import engine_get
from inpaint.engines.base import EngineError, ListedTask, TaskState, TaskStatus
from inpaint.images import PreparedImage
from inpaint.models import InpaintJob
from inpaint.services import jobs, polling, submission
from inpaint.services.scheduling import steps_dispatch
from inpaint.services.job_requests import JobRequest
from tests.pictures import mask, picture

CLOUD = "wanx-x-painting"
Status = InpaintJob.Status


class FakeCloud:
    """Stands in for the cloud engine's network calls: answers are queued, calls recorded."""

    def __init__(self):
        self.submitted: list = []
        self.polled: list[str] = []
        self.canceled: list[str] = []
        self.listed: list[dict] = []
        self.submit_answer: TaskState | EngineError = TaskState(
            status=TaskStatus.PENDING, task_id="task-1", request_id="req-1")
        self.poll_answer: TaskState | EngineError = TaskState(status=TaskStatus.PENDING, task_id="task-1")
        self.cancel_error: EngineError | None = None
        self.tasks: list[ListedTask] = []
        self.while_submitting = lambda: None  # runs inside the submit call, as a slow network would

    @staticmethod
    def _answer(answer):
        if isinstance(answer, Exception):
            raise answer
        return answer

    def submit(self, job_input):
        self.submitted.append(job_input)
        self.while_submitting()
        return self._answer(self.submit_answer)

    def poll(self, task_id):
        self.polled.append(task_id)
        return self._answer(self.poll_answer)

    def cancel(self, task_id):
        self.canceled.append(task_id)
        if self.cancel_error:
            raise self.cancel_error

    def list_tasks(self, *, start, end):
        self.listed.append({"start": start, "end": end})
        return self.tasks


def job_request(engine: str = CLOUD, *, base: PreparedImage | None = None, mask_png: bytes | None = None,
                **asked) -> JobRequest:
    """What a checked post asks for: "a red boat" on a 320 × 320 picture with its centre quarter painted, each
    control at its default and seed 7, unless given."""
    base = base or PreparedImage(picture(320, 320), "jpg", 320, 320)
    asked = {"prompt": "a red boat", "mask_color": [], "seed": 7, **options.CONTROL_DEFAULTS} | asked
    return JobRequest(engine=engine_get(engine), base=base, mask_png=mask_png or mask(base.width, base.height), **asked)


def job_create_sent(asked, **owner) -> InpaintJob:
    """A job made by the real job_create, its first step sent as the view sends it."""
    job, steps = jobs.job_create(asked, **owner)
    steps_dispatch(steps)
    return job


def make_job(engine: str = CLOUD, *, base: PreparedImage | None = None, mask_png: bytes | None = None,
             **fields) -> InpaintJob:
    """A job of job_request's made by the real job_create, with ``fields`` then written over its row."""
    job = job_create_sent(job_request(engine, base=base, mask_png=mask_png), user=None, visitor_id="visitor-a")
    if fields:
        InpaintJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


def claimed_job(**fields) -> InpaintJob:
    """A job whose one paid submission was claimed two seconds ago, outcome unknown."""
    return make_job(submit_claimed_at=timezone.now() - datetime.timedelta(seconds=2), submit_attempts=1, **fields)


def submitted_job(*, base: PreparedImage | None = None, **fields) -> InpaintJob:
    """A job whose remote task exists (its work region was cut when it was sent)."""
    now = timezone.now()
    job = make_job(base=base)
    submission.job_region_prepare(job, engine_get(job.engine))
    InpaintJob.objects.filter(pk=job.pk).update(**{
        "status": Status.SUBMITTED, "submit_claimed_at": now, "submitted_at": now,
        "remote_task_id": f"task-{uuid.uuid4().hex[:8]}", **fields})
    return reload(job)


def reload(job: InpaintJob) -> InpaintJob:
    return InpaintJob.objects.get(pk=job.pk)


def poll_with(cloud: FakeCloud, job: InpaintJob, state: TaskState | EngineError) -> list:
    cloud.poll_answer = state
    return list(polling.job_poll(job, job.step_token))


def sent_ago(job, seconds: float, **fields):
    """The job as if sent `seconds` ago, set just before the call under test so its own making does not count."""
    InpaintJob.objects.filter(pk=job.pk).update(submitted_at=timezone.now() - datetime.timedelta(seconds=seconds),
                                                **fields)
    return reload(job)
