"""Creating and cancelling a job: what the person asks for directly."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Iterator
from typing import NamedTuple

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from inpaint import options
from inpaint.engines import engine_get
from inpaint.engines.base import EngineError
from inpaint.files.deletion import job_sources_delete
from inpaint.models import Batch, InpaintJob, Lock, RoomGuest
from inpaint.services.admission import job_slot_free
from inpaint.services.job_requests import JobRequest
from inpaint.services.owners import owner_key_for
from inpaint.services.refusals import JobActionRefused
from inpaint.services.rooms import room_job_mark, room_limits_check
from inpaint.services.scheduling import Steps, step_first
from inpaint.services.states import Status, job_transition
from inpaint.services.usage import usage_active_limit_reached, usage_limits_check, usage_waiting_check

CREATION_LOCK = "job-create"
# Stored in English, translated where the card shows it.
WAITING_FOR_ROOM_REASON = gettext_noop("It waits for one of your jobs in progress to finish, then takes its turn.")


@contextlib.contextmanager
def creation_locked() -> Iterator[None]:
    """A transaction holding the one lock that every check of caps and jobs in progress, and every release of a
    held job, is taken under: parallel posts and releases see each other's counts."""
    Lock.objects.get_or_create(name=CREATION_LOCK)
    with transaction.atomic():
        Lock.objects.select_for_update().get(name=CREATION_LOCK)
        yield


class JobCreated(NamedTuple):
    """job_create's answer: the stored job, and the steps that start it."""

    job: InpaintJob
    steps: Steps


def job_create(job_request: JobRequest, *, user, visitor_id: str, guest: RoomGuest | None = None,
               batch: Batch | None = None, source_name: str = "", wait_past_limit: bool = False) -> JobCreated:
    """Store the job ``job_request`` asks for, the person's (``user`` or ``visitor_id``) or a room ``guest``'s,
    with the first step for the caller to send; raises JobActionRefused past a cap or limit.

    The caps are checked and the job inserted with one lock held, so parallel posts cannot all
    pass a check that only one of them fits. A room guest's job is the guest's, and meets the room's
    limits too. A job of a ``batch`` is stored held, with no step: the batch releases it
    (inpaint.services.batches), so it waits instead of counting against the person's jobs in progress. With
    ``wait_past_limit`` (a script's task), a job past the person's jobs in progress is stored held too, and
    inpaint.services.holds releases it when one of theirs ends.
    """
    engine, base = job_request.engine, job_request.base
    owner_key = guest.owner_key if guest is not None else owner_key_for(user, visitor_id)
    job = InpaintJob(
        owner=user if user is not None and user.is_authenticated else None, owner_key=owner_key,
        visitor_id=visitor_id, engine=engine.key, prompt=job_request.prompt, style=job_request.style,
        negative_prompt=job_request.negative_prompt,
        size=job_request.size, n=job_request.n, mask_color=job_request.mask_color, context=job_request.context,
        edge_softness=job_request.edge_softness, base_width=base.width, base_height=base.height,
        function=job_request.function, **{side: getattr(job_request, side) for side in options.EXPAND_SIDES},
        upscale_factor=job_request.upscale_factor,
        seed=random.randrange(2**31) if job_request.seed is None else job_request.seed,
        batch=batch, held=batch is not None, source_name=source_name[:200],
    )
    try:
        job.base_image.save(f"base.{base.extension}", ContentFile(base.content), save=False)
        job.mask_image.save("mask.png", ContentFile(job_request.mask_png), save=False)
        if base.alpha:
            job.base_alpha.save("base-alpha.png", ContentFile(base.alpha), save=False)
        if guest is not None:
            room_job_mark(job, guest)
        job.step_token, job.step_due_at = uuid.uuid4().hex, None if job.held else timezone.now()
        with creation_locked():
            if guest is not None:
                room_limits_check(guest, engine, job_request.n)
            if wait_past_limit and not job.held and usage_active_limit_reached(owner_key):
                usage_waiting_check(owner_key)
                job.held, job.step_due_at, job.waiting_reason = True, None, WAITING_FOR_ROOM_REASON
            usage_limits_check(engine, job_request.n, owner_key, in_progress_counted=not job.held)
            job.save()
    except BaseException:
        # Whatever stops the job's insert (a refusal, the database, a worker shut down mid-post) leaves no
        # file behind: nothing else would ever delete files no job row names.
        job_sources_delete(job)
        raise
    # Sent by the caller once the row is committed; should that send fail, the job is stored with its
    # step due now, and the sweep sends it.
    return JobCreated(job, [] if job.held else [step_first(job)])


def job_cancel(job: InpaintJob) -> Steps:
    """Cancel a job that has not started painting, returning the steps that follow (a freed slot wakes the
    next job); raises JobActionRefused with the reason otherwise."""
    if job.status == Status.QUEUED:
        if job_transition(job, Status.CANCELED, sources=[Status.QUEUED], where=Q(submit_claimed_at__isnull=True),
                          finished_at=timezone.now(), waiting_reason=""):
            return []
        raise JobActionRefused(_("The job is being sent right now; try again in a moment."))
    if job.status == Status.SUBMITTED:
        try:
            engine_get(job.engine).cancel(job.remote_task_id)
        except EngineError as error:
            raise JobActionRefused(_("It has started painting and can no longer be stopped.") if not error.transient
                                   else _("The painting service did not answer; try again in a moment.")) from None
        if job_transition(job, Status.CANCELED, sources=[Status.SUBMITTED], finished_at=timezone.now()):
            return job_slot_free(job)
        return []
    if job.status == Status.RUNNING:
        raise JobActionRefused(_("It has started painting and can no longer be stopped."))
    raise JobActionRefused(_("The job has already ended."))
