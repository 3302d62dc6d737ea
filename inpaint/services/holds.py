"""Held jobs: stored with no step, they wait for a release to take their turn in the queue.

A batch's photos are held until the batch releases them (inpaint.services.batches). A script's task sent past the
person's jobs in progress is held too (jobs.job_create with ``wait_past_limit``), so it waits as on DashScope
(``PENDING``) instead of being refused; it is released, oldest first, when one of the person's jobs ends and, for
anything missed (a killed worker, a job cancelled from the page), at every sweep. Every release is counted under
the lock that job creation takes, so it runs twice without releasing twice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from inpaint.models import InpaintJob
from inpaint.services.jobs import creation_locked
from inpaint.services.scheduling import Steps, step_first
from inpaint.services.states import Status
from inpaint.services.usage import usage_jobs_in_progress


def held_jobs_release(jobs: QuerySet[InpaintJob], room: int) -> Steps:
    """Release up to ``room`` of the held jobs among ``jobs``, oldest first, with the first step of each for the
    caller to send; the caller holds jobs.creation_locked."""
    steps: Steps = []
    for job in jobs.filter(held=True, status=Status.QUEUED).order_by("created_at", "pk")[:max(0, room)]:
        # Made now, as far as the queue is concerned: it takes its turn after the jobs already waiting, and its
        # deadline to be sent runs from here.
        now, token = timezone.now(), uuid.uuid4().hex
        if InpaintJob.objects.filter(pk=job.pk, held=True, status=Status.QUEUED).update(
                held=False, created_at=now, step_token=token, step_due_at=now, updated_at=now, waiting_reason=""):
            job.held, job.created_at, job.step_token, job.step_due_at, job.waiting_reason = False, now, token, now, ""
            steps.append(step_first(job))
    return steps


def person_room(owner_key: str, room: int) -> int:
    """``room``, cut to what the person's jobs in progress leave under INPAINT_MAX_ACTIVE_JOBS."""
    limit = settings.INPAINT_MAX_ACTIVE_JOBS
    return min(room, limit - usage_jobs_in_progress(owner_key)) if limit else room


def _waiting_tasks(owner_key: str | None = None) -> QuerySet[InpaintJob]:
    jobs = InpaintJob.objects.filter(held=True, batch__isnull=True, status=Status.QUEUED)
    return jobs if owner_key is None else jobs.filter(owner_key=owner_key)


def person_tasks_release(owner_key: str) -> Steps:
    """Release the person's held tasks their jobs in progress have room for."""
    with creation_locked():
        waiting = _waiting_tasks(owner_key)
        return held_jobs_release(waiting, person_room(owner_key, waiting.count()))


def person_job_ended(job: InpaintJob) -> Steps:
    """After a step of ``job``: if it has ended and its person has tasks waiting, the next take its place."""
    if not job.is_final or not _waiting_tasks(job.owner_key).exists():
        return []
    return person_tasks_release(job.owner_key)


def tasks_release() -> Steps:
    """Every person with tasks waiting releases what they may: what a release missed."""
    owners = _waiting_tasks().values_list("owner_key", flat=True).distinct()
    return [step for owner_key in list(owners) for step in person_tasks_release(owner_key)]
