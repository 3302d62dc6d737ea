"""A job's one live chain of steps: tokens, due times, leases, and handing steps to Celery.

Every scheduled step carries the job's current ``step_token``; a step whose token is no
longer the job's (an older chain, a late redelivery) does nothing. ``step_due_at`` says when
the live step should run, so the sweep (``inpaint.services.recovery``) can tell a lost step.
Tasks are found by their registered names, so nothing here imports ``inpaint.tasks``.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import uuid
from collections.abc import Iterable
from typing import NamedTuple

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from inpaint.engines import engine_get
from inpaint.models import InpaintJob

logger = logging.getLogger(__name__)

STEP_TASK_NAMES = {
    "submit": "inpaint.tasks.job_submit_task",
    "poll": "inpaint.tasks.job_poll_task",
    "reconcile": "inpaint.tasks.job_reconcile_task",
    "store": "inpaint.tasks.job_store_task",
}


class Step(NamedTuple):
    """One task to schedule: run ``action`` for the job after ``countdown`` seconds, if ``token`` is still its."""

    action: str  # a key of STEP_TASK_NAMES
    job_id: str
    token: str
    countdown: float = 0.0
    queue: str | None = None  # None: the default queue


Steps = list[Step]


def _step_queue(job: InpaintJob, action: str) -> str | None:
    # An offline fill holds a worker for seconds; it runs on its own queue so that it never
    # delays the short steps that submit and poll cloud jobs.
    if action != "submit":
        return None
    engine = engine_get(job.engine)
    if not engine.remote:
        return settings.INPAINT_FILL_QUEUE
    # A synchronous call holds its worker for minutes: the same reason, its own queue.
    return settings.INPAINT_EDIT_QUEUE if engine.synchronous else None


def step_first(job: InpaintJob) -> Step:
    """The step that starts a new job's chain, with the token the job was created with."""
    return Step("submit", str(job.pk), job.step_token, 0.0, _step_queue(job, "submit"))


def step_next(job: InpaintJob, action: str, countdown: float = 0.0) -> Steps:
    """Make ``action`` the job's next step, unless another chain has taken the job over meanwhile."""
    token = uuid.uuid4().hex
    due = timezone.now() + datetime.timedelta(seconds=countdown)
    if not InpaintJob.objects.filter(pk=job.pk, step_token=job.step_token).update(step_token=token, step_due_at=due):
        return []
    job.step_token, job.step_due_at = token, due
    return [Step(action, str(job.pk), token, countdown, _step_queue(job, action))]


def step_rearm(job: InpaintJob, action: str) -> Steps:
    """Start a new chain for the job now; any older chain's step will find its token stale."""
    job.step_token = InpaintJob.objects.filter(pk=job.pk).values_list("step_token", flat=True).first() or ""
    return step_next(job, action)


def step_is_current(job: InpaintJob, token: str) -> bool:
    return bool(token) and token == job.step_token


@contextlib.contextmanager
def step_leased(job: InpaintJob):
    """Keep the job's due time ahead of the sweep while this worker does slow work on it.

    A paid call, a result download or an offline fill can take minutes when all goes well,
    yet a worker killed in the middle must not leave the job (and, for a cloud engine, the
    account's running slot) stuck for that long. So the step holds a short lease,
    INPAINT_STEP_LEASE seconds, renewed every third of it from a side thread while the
    process lives: a live worker is never taken for lost, and a dead one's job is picked up
    by the sweep soon after its lease runs out.
    """
    seconds = settings.INPAINT_STEP_LEASE
    own_step = InpaintJob.objects.filter(pk=job.pk, step_token=job.step_token)

    def renew() -> None:
        own_step.update(step_due_at=timezone.now() + datetime.timedelta(seconds=seconds))

    def keep_renewing() -> None:
        try:
            while not finished.wait(seconds / 3):
                try:
                    renew()
                except DatabaseError:
                    logger.warning("could not renew the lease on job %s; trying again", job.pk)
        finally:
            connections.close_all()  # this thread's own connection

    renew()
    finished = threading.Event()
    renewer = threading.Thread(target=keep_renewing, name=f"lease-{job.pk}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        finished.set()
        renewer.join()


def steps_dispatch(steps: Iterable[Step]) -> None:
    """Hand steps to Celery in their order, each as soon as it comes and the current transaction (if any)
    has committed: a service that yields its steps gets its first one sent before its slow work."""
    for step in steps:
        transaction.on_commit(lambda step=step: step_send(step))


def step_send(step: Step) -> None:
    options = {"queue": step.queue} if step.queue else {}
    if step.queue == settings.INPAINT_EDIT_QUEUE:
        # A call may rightly take longer than the worker's limit for every other step.
        options.update(time_limit=settings.INPAINT_EDIT_TIME_LIMIT, soft_time_limit=settings.INPAINT_EDIT_SOFT_TIME_LIMIT)
    current_app.send_task(STEP_TASK_NAMES[step.action], args=(step.job_id, step.token), countdown=step.countdown,
                          **options)
