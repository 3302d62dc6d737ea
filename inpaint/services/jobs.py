"""Creating and cancelling a job: what the person asks for directly."""

from __future__ import annotations

import random
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inpaint import options
from inpaint.engines import engine_get
from inpaint.engines.base import Engine, EngineError
from inpaint.files.deletion import job_sources_delete
from inpaint.images import PreparedImage
from inpaint.models import InpaintJob, Lock, RoomGuest
from inpaint.services.admission import job_slot_free
from inpaint.services.owners import owner_key_for
from inpaint.services.refusals import JobActionRefused
from inpaint.services.rooms import room_job_mark, room_limits_check
from inpaint.services.scheduling import Steps, step_first, steps_dispatch
from inpaint.services.states import Status, job_transition
from inpaint.services.usage import usage_limits_check

CREATION_LOCK = "job-create"


def job_create(*, user, visitor_id: str, engine: Engine, prompt: str, style: str, size: str, n: int,
               mask_color: list, base: PreparedImage, mask_png: bytes, context: str = options.CONTEXT_DEFAULT,
               edge_softness: int = options.EDGE_SOFTNESS_DEFAULT, seed: int | None = None, guest: RoomGuest | None = None) -> InpaintJob:
    """Store a new job and send its first step; raises JobActionRefused past a cap or limit.

    The caps are checked and the job inserted with one lock held, so parallel posts cannot all
    pass a check that only one of them fits. A room guest's job is the guest's, and meets the room's
    limits too.
    """
    owner_key = guest.owner_key if guest is not None else owner_key_for(user, visitor_id)
    job = InpaintJob(
        owner=user if user is not None and user.is_authenticated else None, owner_key=owner_key,
        visitor_id=visitor_id, engine=engine.key, prompt=prompt, style=style, size=size, n=n,
        mask_color=mask_color, seed=random.randrange(2**31) if seed is None else seed, context=context,
        edge_softness=edge_softness, base_width=base.width, base_height=base.height,
    )
    try:
        job.base_image.save(f"base.{base.extension}", ContentFile(base.content), save=False)
        job.mask_image.save("mask.png", ContentFile(mask_png), save=False)
        if base.alpha:
            job.base_alpha.save("base-alpha.png", ContentFile(base.alpha), save=False)
        if guest is not None:
            room_job_mark(job, guest)
        job.step_token, job.step_due_at = uuid.uuid4().hex, timezone.now()
        Lock.objects.get_or_create(name=CREATION_LOCK)
        with transaction.atomic():
            Lock.objects.select_for_update().get(name=CREATION_LOCK)
            if guest is not None:
                room_limits_check(guest, engine, n)
            usage_limits_check(engine, n, owner_key)
            job.save()
            steps_dispatch([step_first(job)])
    except BaseException:
        # Whatever stops the job's insert (a refusal, the database, a worker shut down mid-post) leaves no
        # file behind: nothing else would ever delete files no job row names.
        job_sources_delete(job)
        raise
    return job


def job_cancel(job: InpaintJob) -> Steps:
    """Cancel a job that has not started painting, returning the steps that follow (a freed slot wakes the
    next job); raises JobActionRefused with the reason otherwise."""
    if job.status == Status.QUEUED:
        if job_transition(job, Status.CANCELED, sources=[Status.QUEUED], where=Q(submit_claimed_at__isnull=True),
                          finished_at=timezone.now(), waiting_reason=""):
            return []
        raise JobActionRefused("The job is being sent right now; try again in a moment.")
    if job.status == Status.SUBMITTED:
        try:
            engine_get(job.engine).cancel(job.remote_task_id)
        except EngineError as error:
            raise JobActionRefused("It has started painting and can no longer be stopped." if not error.transient
                                   else "The painting service did not answer; try again in a moment.") from None
        if job_transition(job, Status.CANCELED, sources=[Status.SUBMITTED], finished_at=timezone.now()):
            return job_slot_free(job)
        return []
    if job.status == Status.RUNNING:
        raise JobActionRefused("It has started painting and can no longer be stopped.")
    raise JobActionRefused("The job has already ended.")
