"""The submit step: prepare the work region, wait for admission, and make the one paid create call
(or, for the offline engine, do the fill here and store its results)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from inpaint import images_expand, images_upscale, options, regions
from inpaint.engines import engine_get
from inpaint.engines.base import Engine, EngineError, JobInput
from inpaint.files.sources import JobSources, job_sources_read
from inpaint.models import InpaintJob
from inpaint.services.admission import (engine_throttle, engine_throttle_clear, job_admit,
                                        job_slot_free)
from inpaint.services.durations import duration_in_words
from inpaint.services.links import service_link_choose
from inpaint.services.recovery import RECONCILE_LIST_DELAY, job_in_doubt
from inpaint.services.results import job_answer_keep, job_results_store, job_results_store_or_retry
from inpaint.services.scheduling import Steps, step_is_current, step_leased, step_next
from inpaint.services.timing import job_poll_delay, step_lateness, step_retry_delay
from inpaint.services.states import Status, job_fail, job_transition, job_wait
from inpaint.stored_messages import stored_fill, stored_template

logger = logging.getLogger(__name__)

# Stored on the job in English and shown in the reader's language (inpaint.stored_messages).
THROTTLED_REASON = gettext_noop("The painting service is busy right now; your job will be sent as soon as it has room.")
UNANSWERED_REASON = gettext_noop("The painting service did not answer properly; trying again shortly.")
IN_DOUBT_REASON = gettext_noop("Checking whether the painting service received your job before sending it again.")
PREPARE_FAILED = gettext_noop("This picture and mask could not be prepared for painting. Try the picture again, or another one.")
SUBMIT_DEADLINE_MESSAGE = stored_template(gettext_noop("The painting service could not take this job for %(deadline)s, so it "
                                             "was given up. Nothing was billed. Try again later."))


def job_submit(job: InpaintJob, token: str) -> Steps:
    """Send a queued job to its engine, at most once, when the engine's limits allow."""
    if not step_is_current(job, token) or job.status != Status.QUEUED or job.remote_task_id or job.held:
        return []
    started_late = step_lateness(job)
    if job.submit_claimed_at:
        # An earlier attempt claimed the job and never recorded the outcome.
        return step_next(job, "reconcile")
    engine = engine_get(job.engine)
    if not engine.is_configured():
        job_fail(job, code="NotConfigured", message=engine.explain_error("InvalidApiKey", ""))
        return []
    if job.region is None and not job_region_prepare(job, engine):
        return []
    if not engine.remote:
        return _fill_offline(job, engine)
    admission = job_admit(job, engine)
    if admission.taken_elsewhere:
        return []
    if not admission.claimed:
        return step_next(job, "submit", admission.wait)
    if engine.synchronous:
        return _call_synchronous(job, engine)
    try:
        with step_leased(job):
            state = engine.submit(job_input_build(job))
    except EngineError as error:
        return _submit_failed(job, engine, error)
    engine_throttle_clear(engine)
    job_transition(job, Status.SUBMITTED, sources=[Status.QUEUED], remote_task_id=state.task_id,
                   remote_request_id=state.request_id, remote_status=state.status, submitted_at=timezone.now(),
                   waiting_reason="")
    return step_next(job, "poll", job_poll_delay(job, started_late))


def job_region_prepare(job: InpaintJob, engine: Engine) -> bool:
    """Cut the work region (and a preview of the picture) once; False when the job had to end."""
    sources = job_sources_read(job)
    try:
        prepared = _prepared(job, engine, sources)
    except Exception:  # noqa: BLE001 - our own work failing must end the job in plain words, not loop
        logger.exception("could not prepare the work region of job %s", job.pk)
        job_fail(job, code="PrepareFailed", message=PREPARE_FAILED)
        return False
    job.region_image.save(f"region.{prepared.image_extension}", ContentFile(prepared.image), save=False)
    if prepared.mask:  # an extension sends no mask
        job.region_mask.save("region-mask.png", ContentFile(prepared.mask), save=False)
    job.base_preview.save("base-preview.webp", ContentFile(prepared.preview), save=False)
    job.region = prepared.region_json
    InpaintJob.objects.filter(pk=job.pk, region__isnull=True).update(
        region=job.region, region_image=job.region_image.name, region_mask=job.region_mask.name,
        base_preview=job.base_preview.name)
    job.refresh_from_db()
    return True


def _prepared(job: InpaintJob, engine: Engine, sources: JobSources) -> regions.PreparedRegion:
    """What the job's function sends: the whole picture for an extension or an upscale, else the work region."""
    max_bytes = engine.limits.max_bytes or None
    if job.function == options.FUNCTION_UPSCALE:
        return images_upscale.upscale_prepare(sources.picture, job.upscale_factor, min_side=engine.limits.min_side,
                                              max_side=engine.limits.max_side, max_bytes=max_bytes,
                                              alpha_png=sources.alpha)
    if job.function == options.FUNCTION_EXPAND:
        return images_expand.expand_prepare(sources.picture, job.expand_scales, send_size=engine.send_size,
                                            max_bytes=max_bytes, alpha_png=sources.alpha)
    return regions.region_prepare(
        sources.picture, sources.mask, context=job.context, shapes=engine.output_shapes,
        min_side=engine.limits.min_side if engine.remote else 0, send_size=engine.send_size, max_bytes=max_bytes,
        alpha_png=sources.alpha,
        # A model that keeps any shape still has a longest and a shortest side: a panorama's
        # region is widened to a shape it can take, never stretched.
        max_aspect=engine.limits.max_side / engine.limits.min_side if engine.remote and not engine.output_shapes
        else None)


def job_input_build(job: InpaintJob) -> JobInput:
    with job.region_image.open("rb") as base:
        base_bytes = base.read()
    mask_bytes = b""
    if job.region_mask:
        with job.region_mask.open("rb") as mask:
            mask_bytes = mask.read()
    return JobInput(
        base_image=base_bytes, mask_image=mask_bytes, base_name=job.region_image.name,
        mask_name=job.region_mask.name, prompt=job.prompt, style=job.style,
        negative_prompt=job.negative_prompt,
        size=(job.region["send_width"], job.region["send_height"]), n=job.n, seed=job.seed,
        link=service_link_choose(), function=job.function,
        function_parameters=job.function_parameters,
    )


def _submit_deadline_passed(job: InpaintJob) -> bool:
    return timezone.now() - job.created_at > datetime.timedelta(seconds=settings.INPAINT_SUBMIT_DEADLINE)


def _submit_failed(job: InpaintJob, engine: Engine, error: EngineError) -> Steps:
    if error.maybe_created and engine.synchronous:
        return job_in_doubt(job)
    if error.maybe_created:
        job_wait(job, IN_DOUBT_REASON)
        return step_next(job, "reconcile", RECONCILE_LIST_DELAY)
    if error.transient and not _submit_deadline_passed(job):
        # No task was created, so the next attempt is still the first paid submission.
        pause = engine_throttle(engine) if error.throttled else step_retry_delay(job.submit_attempts)
        job_wait(job, THROTTLED_REASON if error.throttled else UNANSWERED_REASON, submit_claimed_at=None)
        job.refresh_from_db()
        return step_next(job, "submit", pause)
    if error.transient:
        job_fail(job, code="SubmitDeadline",
                 message=stored_fill(SUBMIT_DEADLINE_MESSAGE,
                                     deadline=duration_in_words(settings.INPAINT_SUBMIT_DEADLINE)))
    else:
        job_fail(job, code=error.code, message=engine.explain_error(error.code, error.message))
    return job_slot_free(job)


def _fill_offline(job: InpaintJob, engine: Engine) -> Steps:
    now = timezone.now()
    if not job_transition(job, Status.RUNNING, sources=[Status.QUEUED], where=Q(submit_claimed_at__isnull=True),
                          submit_claimed_at=now, submitted_at=now, started_at=now,
                          submit_attempts=F("submit_attempts") + 1):
        return []
    with step_leased(job):
        try:
            state = engine.submit(job_input_build(job))
        except Exception as exc:  # noqa: BLE001 - any failure of the fill must end the job, not lose it
            logger.exception("offline engine failed on job %s", job.pk)
            job_fail(job, code="OfflineEngineError", message=engine.explain_error("OfflineEngineError",
                                                                                 exc.__class__.__name__))
            return []
        job_results_store(job, state)
    return []


def _call_synchronous(job: InpaintJob, engine: Engine) -> Steps:
    """The one paid call of a claimed job to a synchronous engine, and its answer kept and stored at once (a
    download that fails is tried again by the store step, from the kept links).

    The job is RUNNING during the call: it is being painted, and can no longer be cancelled."""
    now = timezone.now()
    if not job_transition(job, Status.RUNNING, sources=[Status.QUEUED], submitted_at=now, started_at=now,
                          waiting_reason=""):
        return job_slot_free(job)
    try:
        with step_leased(job):
            state = engine.submit(job_input_build(job))
    except EngineError as error:
        if not error.maybe_created:
            # Nothing was painted or billed: back in the queue, then retried or failed as any first call.
            job_transition(job, Status.QUEUED, sources=[Status.RUNNING])
        return _submit_failed(job, engine, error)
    engine_throttle_clear(engine)
    # The call is over: its slot goes to the next job whatever the downloads do.
    freed = job_slot_free(job)
    if not job_answer_keep(job, state):
        return freed
    with step_leased(job):
        return freed + job_results_store_or_retry(job, state, "store")
