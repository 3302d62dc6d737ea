"""Sending a job in doubt again, when its person chooses to: a new job from the old one's own pictures and options.

The app never does this by itself (inpaint.services.recovery.job_in_doubt): the first call may have been painted
and billed, so only the person may decide to pay again.
"""

from __future__ import annotations

from inpaint.engines import engine_get
from inpaint.files.sources import job_sources_read
from inpaint.images import PreparedImage
from inpaint.models import InpaintJob, RoomGuest
from inpaint.services.job_requests import JobRequest
from inpaint.services.jobs import JobCreated, job_create
from inpaint.services.recovery import IN_DOUBT_CODE
from inpaint.services.refusals import JobActionRefused
from inpaint.services.states import Status

NOT_IN_DOUBT = "Only a job whose answer was lost can be sent again."


def job_send_again(job: InpaintJob, *, user, visitor_id: str, guest: RoomGuest | None = None) -> JobCreated:
    """A new job with the in-doubt job's picture, mask and options (its seed too), and its first step for the caller
    to send; raises JobActionRefused for any other job, or past a cap or limit, as job_create does."""
    if job.status != Status.FAILED or job.error_code != IN_DOUBT_CODE:
        raise JobActionRefused(NOT_IN_DOUBT)
    return job_create(job_request_repeat(job), user=user, visitor_id=visitor_id, guest=guest)


def job_request_repeat(job: InpaintJob) -> JobRequest:
    """The request that makes the job again: its own picture, mask and options, its seed too."""
    sources = job_sources_read(job)
    base = PreparedImage(sources.picture, job.base_image.name.rsplit(".", 1)[-1], job.base_width, job.base_height,
                         alpha=sources.alpha)
    return JobRequest(engine=engine_get(job.engine), prompt=job.prompt, style=job.style, size=job.size, n=job.n,
                         negative_prompt=job.negative_prompt,
                         mask_color=job.mask_color, context=job.context, edge_softness=job.edge_softness, base=base,
                         mask_png=sources.mask, seed=job.seed, function=job.function, **job.expand_scales,
                         upscale_factor=job.upscale_factor)
