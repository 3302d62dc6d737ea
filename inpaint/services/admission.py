"""Admission: the account's limits for each engine, shared by every worker on every host.

A job is claimed for its one paid submission only while fewer than the engine's running
limit of remote tasks are in progress and fewer than its submit rate went out in the last
second and a half. The decision is taken with the engine's ``EngineGate`` row locked, so workers agree.

When a slot frees, the waiting jobs are woken in the order of turns between people, which
``selectors.jobs_in_turn`` reads (the page shows the same order as queue places).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from inpaint.engines import engine_get
from inpaint.engines.base import Engine
from inpaint.models import EngineGate, InpaintJob
from inpaint.services.scheduling import Steps, step_next
from inpaint.services.selectors import HOLDS_SLOT, WAITING, jobs_in_turn, waiting_in_turn
from inpaint.services.timing import step_retry_delay


@dataclass(frozen=True)
class Admission:
    """job_admit's answer: the job is claimed for its one paid submission, another worker has it, or the
    engine's limits say to ask again after ``wait`` seconds."""
    claimed: bool = False
    taken_elsewhere: bool = False
    wait: float = 0.0


# The service counts its submissions a second where they arrive, and a claim here reaches it after a varying
# time (a loaded worker, the network): two claims a second apart can land inside one second there. So the
# rate is kept over a longer window, which costs little as the running limit binds first for every engine.
SUBMIT_WINDOW = datetime.timedelta(seconds=1.5)

CLAIMED = Admission(claimed=True)
TAKEN_ELSEWHERE = Admission(taken_elsewhere=True)


def engine_limits(engine: Engine) -> tuple[int, int]:
    """(submissions a second, remote tasks in progress) for an engine, from settings or its documented defaults."""
    rate = settings.INPAINT_SUBMIT_RATES.get(engine.key, engine.submit_rate)
    running = settings.INPAINT_RUNNING_LIMITS.get(engine.key, engine.running_limit)
    return int(rate), int(running)


def job_admit(job: InpaintJob, engine: Engine) -> Admission:
    """Claim the job for its one paid submission if the engine's limits allow it now.

    When not claimed, the answer's wait is the seconds before asking again (a freed slot wakes the
    next job sooner). Jobs are admitted first come, first served.
    """
    rate, running_limit = engine_limits(engine)
    with transaction.atomic():
        gate = _gate_locked(engine.key)
        now = timezone.now()
        if gate.paused_until and gate.paused_until > now:
            return Admission(wait=(gate.paused_until - now).total_seconds())
        free_slots = running_limit - InpaintJob.objects.filter(engine=engine.key).filter(HOLDS_SLOT).count()
        turns = waiting_in_turn(engine.key)
        ahead = turns.index(job.pk) if job.pk in turns else len(turns)
        if free_slots <= ahead:
            return Admission(wait=settings.INPAINT_ADMISSION_RECHECK)
        window_start = now - SUBMIT_WINDOW
        recent = sorted(t for t in gate.recent_submits if datetime.datetime.fromisoformat(t) > window_start)
        if len(recent) >= rate:
            return Admission(wait=(datetime.datetime.fromisoformat(recent[0]) - window_start).total_seconds() + 0.01)
        claimed = InpaintJob.objects.filter(pk=job.pk, step_token=job.step_token).filter(WAITING).update(
            submit_claimed_at=now, submit_attempts=F("submit_attempts") + 1, updated_at=now)
        if not claimed:
            return TAKEN_ELSEWHERE
        gate.recent_submits = recent + [now.isoformat()]
        gate.save(update_fields=["recent_submits"])
    # The claim was conditional on the token this step holds, so nothing else changed the job meanwhile;
    # no reload stands between a freed slot and the paid call.
    job.submit_claimed_at, job.submit_attempts, job.updated_at = now, job.submit_attempts + 1, now
    return CLAIMED


def _gate_locked(engine_key: str) -> EngineGate:
    """The engine's gate row, locked until the transaction ends (created the first time it is needed)."""
    gate = EngineGate.objects.select_for_update().filter(engine=engine_key).first()
    if gate is None:
        EngineGate.objects.get_or_create(engine=engine_key)
        gate = EngineGate.objects.select_for_update().get(engine=engine_key)
    return gate


def engine_throttle(engine: Engine) -> float:
    """The service said 429: nobody submits to this engine for a growing pause. Returns the pause."""
    with transaction.atomic():
        gate = EngineGate.objects.select_for_update().get(engine=engine.key)
        gate.throttle_strikes += 1
        pause = step_retry_delay(gate.throttle_strikes)
        gate.paused_until = timezone.now() + datetime.timedelta(seconds=pause)
        gate.save(update_fields=["throttle_strikes", "paused_until"])
    return pause


def engine_throttle_clear(engine: Engine) -> None:
    EngineGate.objects.filter(engine=engine.key).update(throttle_strikes=0)


def job_slot_free(job: InpaintJob) -> Steps:
    """The job no longer holds one of the account's running slots: its remote task ended, or its claim
    ended without one (a refused or given-up submission). Marked once, by whichever step sees it first,
    and the oldest waiting jobs are given their turn now instead of at their next recheck."""
    if not InpaintJob.objects.filter(pk=job.pk, remote_ended_at__isnull=True).update(remote_ended_at=timezone.now()):
        return []
    engine = engine_get(job.engine)
    if not engine.running_limit:
        return []
    _, running_limit = engine_limits(engine)
    steps: Steps = []
    for waiting in jobs_in_turn(job.engine)[:running_limit]:
        # Just read, so its token is current: a new chain replaces whatever recheck it was waiting for.
        steps += step_next(waiting, "submit")
    return steps
