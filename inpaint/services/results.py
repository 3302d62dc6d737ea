"""Finished images: fetched at once (the service deletes them after 24 h), pasted back into the
full-size picture, and stored with the model's own output and a preview.

Slots already stored are skipped, so a repeated call only fills the gaps. A download that
failed this time is raised to be retried; anything that will never work marks its slot failed
with a plain reason, so a bad answer can never make the step crash again and again.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from inpaint import images, images_expand, images_upscale, regions
from inpaint.engines import engine_get
from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.files.derived import job_transparent_picture_open, result_jpeg_open
from inpaint.files.sources import job_sources_read
from inpaint.models import InpaintJob, JobResult
from inpaint.options import FUNCTION_EXPAND, FUNCTION_UPSCALE, SIZE_SCALES
from inpaint.services.downloads import DownloadFailed, DownloadRefused, result_download
from inpaint.services.scheduling import Steps, step_is_current, step_leased, step_next
from inpaint.services.states import Status, job_fail, job_fields_update, job_transition, job_wait
from inpaint.services.timing import step_retry_delay
from inpaint.stored_messages import stored_fill, stored_template

logger = logging.getLogger(__name__)

# A result link that answers 4xx may be a passing fault of the storage; it is called
# expired only after this many tries.
LINK_REFUSALS_BEFORE_EXPIRED = 3
# Stored on the job (or its slot) in English and shown in the reader's language (inpaint.stored_messages).
EXPIRED_MESSAGE = gettext_noop("This image could not be saved: DashScope's link to it no longer works. "
                     "Run the job again to get a new one.")
# Downloads failing again and again (5xx, timeouts) end in failed slots after this many tries.
MAX_DOWNLOAD_TRIES = 8
SAVING_REASON = gettext_noop("Saving your images; the download will be tried again shortly.")
UNUSABLE_MESSAGE = gettext_noop("The service sent back something that is not a usable picture for one of the images. Run the job again.")
DOWNLOAD_GAVE_UP = gettext_noop("This image could not be downloaded from the painting service. Run the job again.")
SHAPE_MESSAGE = stored_template(gettext_noop(
    "The service sent back a picture of another shape (%(width)s × %(height)s pixels) than the area it was sent; "
    "putting it in would stretch your picture, so this image was left out. Run the job again."))
COMPOSE_MESSAGE = gettext_noop("The painted image could not be put back into your picture. Run the job again.")


class ResultRetry(Exception):
    """A download failed this time; the step tries again later."""


def job_results_store(job: InpaintJob, state: TaskState) -> None:
    for slot, outcome in enumerate(state.results):
        result, _ = JobResult.objects.get_or_create(job=job, slot=slot)
        if result.image or result.error_code:
            continue
        _result_store(job, result, outcome)
    if job.base_alpha:
        job_transparent_picture_open(job).close()
    job_results_finish(job)


def _slot_failed(result: JobResult, code: str, message: str) -> None:
    result.error_code, result.error_message = code[:80], message[:500]
    result.save(update_fields=["error_code", "error_message"])


def _result_store(job: InpaintJob, result: JobResult, outcome: SlotResult) -> None:
    if outcome.failed or not (outcome.url or outcome.content):
        code = outcome.code or "NoImage"
        _slot_failed(result, code, engine_get(job.engine).explain_error(code, outcome.message))
        return
    if not result.raw_image:
        raw = outcome.content or _downloaded(result, outcome.url)
        if raw is None:
            return
        extension = images.picture_extension(raw)
        if extension is None:
            _slot_failed(result, "NotAPicture", UNUSABLE_MESSAGE)
            return
        result.raw_image.save(f"model-output.{extension}", ContentFile(raw), save=True)
    try:
        composed = _composed(job, result)
    except regions.ShapeRefused as refused:
        _slot_failed(result, "ShapeRefused", stored_fill(SHAPE_MESSAGE, width=refused.returned[0], height=refused.returned[1]))
        return
    except Exception:  # noqa: BLE001 - any failure of our own work ends the slot in plain words, never a crash loop
        logger.exception("could not paste back slot %s of job %s", result.slot, job.pk)
        _slot_failed(result, "ComposeFailed", COMPOSE_MESSAGE)
        return
    result.width, result.height = composed.width, composed.height
    # Made before the slot is stored, so no request can find the result without its JPEG and make it too.
    result_jpeg_open(job, result.slot, lambda: composed.png).close()
    result.preview.save("preview.webp", ContentFile(composed.preview), save=False)
    result.image.save("result.png", ContentFile(composed.png), save=False)
    result.save(update_fields=["image", "preview", "width", "height"])


def _downloaded(result: JobResult, url: str) -> bytes | None:
    """The image behind the link, or None once the slot is marked failed."""
    try:
        return result_download(url)
    except DownloadRefused as refusal:
        logger.warning("result link of slot %s of job %s refused: %s", result.slot, result.job_id, refusal)
        _slot_failed(result, "ResultUnusable", UNUSABLE_MESSAGE)
        return None
    except DownloadFailed as failure:
        if 400 <= failure.status < 500 and failure.status != 429:
            refusals = JobResult.objects.filter(pk=result.pk).values_list("link_refusals", flat=True).first() + 1
            JobResult.objects.filter(pk=result.pk).update(link_refusals=refusals)
            if refusals >= LINK_REFUSALS_BEFORE_EXPIRED:
                _slot_failed(result, "ResultExpired", EXPIRED_MESSAGE)
                return None
        raise ResultRetry(str(failure)) from None


def _composed(job: InpaintJob, result: JobResult) -> regions.ComposedResult:
    sources = job_sources_read(job)
    with result.raw_image.open("rb") as raw:
        raw_bytes = raw.read()
    tolerance = engine_get(job.engine).answer_aspect_tolerance
    if job.function == FUNCTION_UPSCALE:
        # The size control is not offered for an upscale: the factor is the size asked for.
        return images_upscale.upscale_compose(sources.picture, raw_bytes, job.upscale_factor, alpha_png=sources.alpha,
                                              shape_tolerance=tolerance)
    if job.function == FUNCTION_EXPAND:
        return images_expand.expand_compose(sources.picture, raw_bytes, job.expand_scales,
                                            send_width=job.region["send_width"], edge_softness=job.edge_softness,
                                            alpha_png=sources.alpha, scale=SIZE_SCALES[job.size],
                                            shape_tolerance=tolerance)
    return regions.result_compose(sources.picture, sources.mask, regions.Region.from_json(job.region), raw_bytes,
                                  edge_softness=job.edge_softness, alpha_png=sources.alpha, scale=SIZE_SCALES[job.size],
                                  shape_tolerance=tolerance)


def job_results_store_or_retry(job: InpaintJob, state: TaskState, action: str) -> Steps:
    """Store the images of a finished task; when a download fails, ``action`` (the step that holds the
    links: the poll, or the store step of a synchronous answer) runs again after a back-off, and after
    MAX_DOWNLOAD_TRIES the slots not yet stored fail."""
    try:
        job_results_store(job, state)
    except ResultRetry:
        if job.poll_errors + 1 >= MAX_DOWNLOAD_TRIES:
            job_results_give_up(job)
            return []
        job_wait(job, SAVING_REASON, poll_errors=F("poll_errors") + 1)
        job.refresh_from_db()
        return step_next(job, action, step_retry_delay(job.poll_errors))
    return []


def job_answer_keep(job: InpaintJob, state: TaskState) -> bool:
    """Record a synchronous call's answer (its links, count and request id) on the running job; False when
    the job no longer runs. Kept so that its images can be stored again later from the links."""
    answer = [{"url": slot.url, "code": slot.code, "message": slot.message} for slot in state.results]
    return job_fields_update(job, sources=[Status.RUNNING], remote_request_id=state.request_id,
                             image_count=state.image_count, answer=answer)


def job_answer_store(job: InpaintJob, token: str) -> Steps:
    """The store step: the images of a kept synchronous answer, whose first download failed or whose
    worker stopped before they were stored. Slots already stored are skipped."""
    if not step_is_current(job, token) or job.status != Status.RUNNING or not job.answer:
        return []
    state = TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(**slot) for slot in job.answer],
                      image_count=job.image_count)
    with step_leased(job):
        return job_results_store_or_retry(job, state, "store")


def job_results_give_up(job: InpaintJob) -> None:
    """Downloads kept failing: the slots not yet stored fail, and the job ends with what it has."""
    job.results.filter(image="", error_code="").update(error_code="DownloadFailed", error_message=DOWNLOAD_GAVE_UP)
    job_results_finish(job)


def job_results_finish(job: InpaintJob) -> None:
    """End the job: SUCCEEDED if any image was stored, FAILED with the slots' reason otherwise."""
    stored = job.results.exclude(image="")
    if stored.exists():
        job_transition(job, Status.SUCCEEDED, sources=[Status.SUBMITTED, Status.RUNNING], finished_at=timezone.now(),
                       waiting_reason="", image_count=job.image_count or stored.count())
        return
    first_failure = job.results.exclude(error_code="").first()
    job_fail(job, code=first_failure.error_code if first_failure else "NoImage",
             message=first_failure.error_message if first_failure else gettext_noop("The service returned no image. Try again."))
