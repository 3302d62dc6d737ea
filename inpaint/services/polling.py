"""The poll step: one status query of the job's remote task, and what follows from the answer.

The query comes first, before any deadline: a task that succeeded was billed and keeps its
images for 24 hours, so its images are stored however late the answer is. At the deadline only a
task that costs nothing is given up: one still waiting that the service really cancelled. A running
task cannot be cancelled and will be billed, so it (like a waiting one whose cancel did not take) is
polled on, more slowly, until the service stops keeping it; its card says it is late.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from inpaint.engines import engine_get
from inpaint.engines.base import Engine, EngineError, TaskState, TaskStatus
from inpaint.models import InpaintJob
from inpaint.services.admission import job_slot_free
from inpaint.services.durations import duration_in_words
from inpaint.services.results import job_results_store_or_retry
from inpaint.services.scheduling import Step, Steps, step_is_current, step_leased, step_next
from inpaint.services.states import Status, job_fail, job_transition, job_wait
from inpaint.services.timing import job_poll_delay, step_lateness, step_retry_delay
from inpaint.stored_messages import stored_fill, stored_template

# The service keeps a task, and its images, this long; a query that keeps failing is tried until then.
TASK_RETENTION = datetime.timedelta(hours=24)
# Stored on the job in English and shown in the reader's language (inpaint.stored_messages).
UNANSWERED_REASON = gettext_noop("The painting service did not answer properly; asking again shortly.")
LATE_REASON = gettext_noop("Taking longer than usual — still painting; you will not lose it.")
NOT_STARTED_MESSAGE = stored_template(gettext_noop("The painting service did not start this job within %(deadline)s, so it was "
                                         "cancelled. Nothing was billed. Try again later; it may be overloaded."))
NOT_FINISHED_MESSAGE = stored_template(gettext_noop("The painting service did not finish this job within %(deadline)s. Try "
                                          "again later."))


def job_poll(job: InpaintJob, token: str) -> Iterator[Step]:
    """Ask once about the job's remote task; yields the steps that follow in the order they are to be sent.

    When the task has ended, the step that wakes the next waiting job comes first, before the results
    are downloaded and stored, so the account's slot never idles while this worker saves images.
    """
    if not step_is_current(job, token) or job.status not in (Status.SUBMITTED, Status.RUNNING):
        return
    started_late = step_lateness(job)
    with step_leased(job):
        yield from _poll_once(job, engine_get(job.engine), started_late)


def _deadline_passed(job: InpaintJob) -> bool:
    started = job.submitted_at or job.created_at
    return timezone.now() - started > datetime.timedelta(seconds=settings.INPAINT_JOB_DEADLINE)


def _retention_passed(job: InpaintJob) -> bool:
    """The service no longer keeps the task (measured from the job's making, which came first)."""
    return timezone.now() - job.created_at >= TASK_RETENTION


def _poll_once(job: InpaintJob, engine: Engine, started_late: float) -> Iterator[Step]:
    try:
        state = engine.poll(job.remote_task_id)
    except EngineError as error:
        if error.transient and not _retention_passed(job):
            job_wait(job, UNANSWERED_REASON, poll_errors=F("poll_errors") + 1)
            yield from step_next(job, "poll", max(settings.INPAINT_POLL_INTERVAL, step_retry_delay(job.poll_errors + 1)))
            return
        job_fail(job, code=error.code, message=engine.explain_error(error.code, error.message))
        yield from job_slot_free(job)
        return
    if state.ended:
        yield from job_slot_free(job)
    late = not state.ended and _deadline_passed(job)
    _record_remote_state(job, state, waiting_reason=LATE_REASON if late else "")
    if not state.ended:
        yield from _poll_later(job, engine, state, late, started_late)
    elif state.status == TaskStatus.SUCCEEDED:
        yield from job_results_store_or_retry(job, state, "poll")
    elif state.status == TaskStatus.CANCELED:
        job_transition(job, Status.CANCELED, sources=[Status.SUBMITTED, Status.RUNNING], finished_at=timezone.now(),
                       waiting_reason="")
    else:
        code = state.code or state.status
        job_fail(job, code=code, message=engine.explain_error(code, state.message))


def _poll_later(job: InpaintJob, engine: Engine, state: TaskState, late: bool, started_late: float) -> Steps:
    """The task still waits or runs: ask again, more slowly once late, unless it was given up."""
    if late and _late_task_given_up(job, engine, state):
        return job_slot_free(job)
    if state.status == TaskStatus.RUNNING:
        job_transition(job, Status.RUNNING, sources=[Status.SUBMITTED], started_at=timezone.now())
    return step_next(job, "poll", settings.INPAINT_LATE_POLL_INTERVAL if late else job_poll_delay(job, started_late))


def _record_remote_state(job: InpaintJob, state: TaskState, *, waiting_reason: str) -> None:
    # Once the task has ended, poll_errors goes on counting failed downloads so they back off.
    changes = {"waiting_reason": waiting_reason, "remote_status": state.status}
    if not state.ended:
        changes["poll_errors"] = 0
    for field, value in (("remote_submit_time", state.submit_time), ("remote_scheduled_time", state.scheduled_time),
                         ("remote_end_time", state.end_time), ("task_metrics", state.task_metrics),
                         ("image_count", state.image_count)):
        if value is not None:
            changes[field] = value
    InpaintJob.objects.filter(pk=job.pk).update(**changes)
    for field, value in changes.items():
        setattr(job, field, value)


def _late_task_given_up(job: InpaintJob, engine: Engine, state: TaskState) -> bool:
    """Past the deadline: fail the job only when nothing more can come of its task (True then)."""
    if state.status in (TaskStatus.PENDING, TaskStatus.SUSPENDED) and _task_cancelled(job, engine):
        job_fail(job, code="Timeout", message=stored_fill(NOT_STARTED_MESSAGE,
                                                          deadline=duration_in_words(settings.INPAINT_JOB_DEADLINE)))
        return True
    if _retention_passed(job):
        job_fail(job, code="Timeout", message=stored_fill(
            NOT_FINISHED_MESSAGE, deadline=duration_in_words(TASK_RETENTION.total_seconds())))
        return True
    return False


def _task_cancelled(job: InpaintJob, engine: Engine) -> bool:
    try:
        engine.cancel(job.remote_task_id)
    except EngineError:
        # It may have just started (the service cancels only waiting tasks): it will be billed, so it is
        # polled on and collected.
        return False
    return True
