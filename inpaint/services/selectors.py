"""Reads for the page and the poller: a visitor's jobs, queue position, and how long jobs take."""

from __future__ import annotations

import statistics

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from inpaint.engines import engine_get
from inpaint.models import InpaintJob, RoomGuest
from inpaint.services.admission import waiting_in_turn
from inpaint.services.rooms import guest_jobs
from inpaint.services.states import Status

RECENT_JOBS = 10
# A step that started very late (a backlog) says nothing about the next one: take off at most this much.
MAX_LATENESS_TAKEN_OFF = 0.05


def job_list(*, user, visitor_id: str, guest: RoomGuest | None = None) -> QuerySet[InpaintJob]:
    """The visitor's own jobs: a room guest's, a signed-in person's, or this anonymous browser's."""
    if guest is not None:
        return guest_jobs(guest)
    if user is not None and user.is_authenticated:
        return InpaintJob.objects.filter(owner=user)
    if not visitor_id:
        return InpaintJob.objects.none()
    return InpaintJob.objects.filter(owner__isnull=True, visitor_id=visitor_id)


def job_waits_its_turn(status: str, submit_claimed_at, engine_key: str) -> bool:
    """Whether a job with these fields waits for its turn (and so has a place in the queue)."""
    return status == Status.QUEUED and not submit_claimed_at and bool(engine_get(engine_key).running_limit)


def job_queue_position(job: InpaintJob) -> int | None:
    """How many jobs of the same engine take their turn before this one, while it waits for admission."""
    if not job_waits_its_turn(job.status, job.submit_claimed_at, job.engine):
        return None
    turns = waiting_in_turn(job.engine)
    return turns.index(job.pk) if job.pk in turns else None


def job_estimate_seconds(engine_key: str) -> float | None:
    """Mean time from sending to stored results over the engine's last ten successful jobs."""
    recent = (InpaintJob.objects.filter(engine=engine_key, status=Status.SUCCEEDED, finished_at__isnull=False,
                                        submitted_at__isnull=False)
              .order_by("-finished_at").values_list("submitted_at", "finished_at")[:RECENT_JOBS])
    durations = [(finished - submitted).total_seconds() for submitted, finished in recent]
    return sum(durations) / len(durations) if durations else None


def engine_task_seconds(engine_key: str) -> float | None:
    """The median time the service took from accepting a task to ending it, over recent jobs."""
    recent = (InpaintJob.objects.filter(engine=engine_key, status=Status.SUCCEEDED, remote_submit_time__isnull=False,
                                        remote_end_time__isnull=False)
              .order_by("-finished_at").values_list("remote_submit_time", "remote_end_time")[:RECENT_JOBS])
    durations = [(end - start).total_seconds() for start, end in recent]
    return statistics.median(durations) if durations else None


def job_poll_delay(job: InpaintJob, started_late: float = 0.0) -> float:
    """When to ask about the job's task next: at the normal interval, but timed to land just after the
    moment it is expected to end (from recent jobs), and often for a while after it. With the running
    limits (1–2 tasks) this stays far under the account's 20 queries a second.

    ``started_late``: how long after its due time the current poll started (broker and worker hand-over),
    which the next one will take again; taken off the landing so the poll arrives at the end, not after.
    """
    interval = settings.INPAINT_POLL_INTERVAL
    fast = min(settings.INPAINT_POLL_FAST_INTERVAL, interval)
    expected = engine_task_seconds(job.engine)
    if expected is None or job.submitted_at is None:
        return interval
    # Our submitted_at comes a round trip after the service's own submit time: the landing errs late.
    remaining = expected - (timezone.now() - job.submitted_at).total_seconds()
    if remaining > 0:
        return max(0.0, min(interval, remaining - min(started_late, MAX_LATENESS_TAKEN_OFF)))
    if remaining > -max(interval, expected / 2):
        return fast
    return interval
