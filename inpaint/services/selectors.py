"""Reads for the page and the poller: a visitor's jobs, the order of turns, queue position, and how long
jobs take.

Nothing here changes a job, and nothing here imports a service that does: the page and the card tags
read through this module alone. Admission, which does change jobs, reads the order of turns from here.

Waiting jobs take turns between people: each person's first job comes before anyone's second (a job
holding a slot, or sent since the oldest waiting job came in, counts as that person's turn), first come
first served within those rounds, so one person's twenty jobs never keep another's single job waiting
for more than one turn.
"""

from __future__ import annotations

import statistics

from django.db.models import Q, QuerySet

from inpaint.engines import engine_get
from inpaint.models import InpaintJob, RoomGuest
Status = InpaintJob.Status
RECENT_JOBS = 10
# A job holds one of the account's running slots from its claim until its remote task ends.
HOLDS_SLOT = Q(status__in=InpaintJob.UNFINISHED_STATUSES, submit_claimed_at__isnull=False, remote_ended_at__isnull=True)
# A batch's held job is not waiting for a turn yet: the batch releases it (inpaint.services.batches).
WAITING = Q(status=Status.QUEUED, submit_claimed_at__isnull=True, remote_task_id="", held=False)


def guest_jobs(guest: RoomGuest) -> QuerySet[InpaintJob]:
    return InpaintJob.objects.filter(owner_key=guest.owner_key)


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


def waiting_in_turn(engine_key: str) -> list:
    """The ids of the engine's waiting jobs in the order they take turns (see the module's docstring)."""
    return [job.pk for job in jobs_in_turn(engine_key)]


def jobs_in_turn(engine_key: str) -> list[InpaintJob]:
    """The engine's waiting jobs in the order they take turns, with only what ordering and re-arming need."""
    # One query for the waiting jobs: this runs between a freed slot and the next paid call.
    waiting = list(InpaintJob.objects.filter(WAITING, engine=engine_key).order_by("created_at", "pk")
                   .only("pk", "owner_key", "created_at", "step_token", "engine"))
    if not waiting:
        return []
    # A person whose job holds a slot, or was sent since the oldest waiting job came in, has had a turn
    # in this round: their next job waits behind everyone's first, so a room of people posting two jobs
    # each gets one job from each person first, even when steps are re-run after a crash.
    seen: dict[str, int] = {}
    taken = InpaintJob.objects.filter(HOLDS_SLOT | Q(submit_claimed_at__gte=waiting[0].created_at), engine=engine_key)
    for owner_key in taken.values_list("owner_key", flat=True):
        seen[owner_key] = seen.get(owner_key, -1) + 1
    order = []
    for index, job in enumerate(waiting):
        rank = seen[job.owner_key] = seen.get(job.owner_key, -1) + 1
        order.append((rank, index, job))
    return [job for _, _, job in sorted(order, key=lambda entry: entry[:2])]
