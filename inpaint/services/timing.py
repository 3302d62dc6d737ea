"""When a job's next step runs: poll delays timed to the engine's recent tasks, back-off after a
failure, and the hand-over lateness a step measures on itself.

Every countdown a service gives ``step_next`` comes from here or from a setting, so how often the
service is asked, and how soon after a task ends, can be read in one place.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.utils import timezone

from inpaint.models import InpaintJob
from inpaint.services.selectors import engine_task_seconds

# A step that started very late (a backlog) says nothing about the next one: take off at most this much.
MAX_LATENESS_TAKEN_OFF = 0.05


def step_lateness(job: InpaintJob) -> float:
    """How long after its due time the job's current step started: the broker's and the worker's
    hand-over, which the job's next step will take again (0 when unknown)."""
    if job.step_due_at is None:
        return 0.0
    return max((timezone.now() - job.step_due_at).total_seconds(), 0.0)


def step_retry_delay(attempt: int) -> float:
    """Exponential back-off with jitter: about 1, 2, 4, 8 … s, capped, each drawn from its upper half."""
    ceiling = min(settings.INPAINT_RETRY_MAX_DELAY, settings.INPAINT_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


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
