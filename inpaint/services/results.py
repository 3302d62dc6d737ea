"""Finished images: fetched at once (the service deletes them after 24 h), pasted back into the
full-size picture, and stored with the model's own output and a preview.

Slots already stored are skipped, so a repeated call only fills the gaps. A download that
failed this time is raised to be retried; anything that will never work marks its slot failed
with a plain reason, so a bad answer can never make the step crash again and again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import IO

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from inpaint import decode_bound, images, regions
from inpaint.engines import engine_get
from inpaint.engines.base import SlotResult, TaskState
from inpaint.files.names import EDITOR_PROXY, RESULT_JPEG, TRANSPARENT_PICTURE, job_file_path
from inpaint.models import InpaintJob, JobResult
from inpaint.options import SIZE_SCALES
from inpaint.services.downloads import DownloadFailed, DownloadRefused, result_download
from inpaint.services.states import Status, job_fail, job_transition

logger = logging.getLogger(__name__)

# A result link that answers 4xx may be a passing fault of the storage; it is called
# expired only after this many tries.
LINK_REFUSALS_BEFORE_EXPIRED = 3
EXPIRED_MESSAGE = ("This image could not be saved: DashScope's link to it no longer works. "
                   "Run the job again to get a new one.")
UNUSABLE_MESSAGE = "The service sent something that is not a usable picture for this slot. Run the job again."
COMPOSE_MESSAGE = "The painted image could not be put back into your picture. Run the job again."


class ResultRetry(Exception):
    """A download failed this time; the step tries again later."""


def job_results_store(job: InpaintJob, state: TaskState) -> None:
    for slot, outcome in enumerate(state.results):
        result, _ = JobResult.objects.get_or_create(job=job, slot=slot)
        if result.image or result.error_code:
            continue
        _result_store(job, result, outcome)
    if job.base_alpha:
        _derived(job, TRANSPARENT_PICTURE, lambda: job_picture(job)[0]).close()
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
    except Exception:  # noqa: BLE001 - any failure of our own work ends the slot in plain words, never a crash loop
        logger.exception("could not paste back slot %s of job %s", result.slot, job.pk)
        _slot_failed(result, "ComposeFailed", COMPOSE_MESSAGE)
        return
    result.width, result.height = composed.width, composed.height
    # Made before the slot is stored, so no request can find the result without its JPEG and make it too.
    _derived(job, RESULT_JPEG.format(slot=result.slot), lambda: images.result_as_jpeg(composed.png)).close()
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
    with job.base_image.open("rb") as base, job.mask_image.open("rb") as mask, result.raw_image.open("rb") as raw:
        picture, mask_png, raw_bytes = base.read(), mask.read(), raw.read()
    alpha = None
    if job.base_alpha:
        with job.base_alpha.open("rb") as alpha_file:
            alpha = alpha_file.read()
    return regions.result_compose(picture, mask_png, regions.Region.from_json(job.region), raw_bytes,
                                  edge_softness=job.edge_softness, alpha_png=alpha, scale=SIZE_SCALES[job.size])


def job_results_finish(job: InpaintJob) -> None:
    """End the job: SUCCEEDED if any image was stored, FAILED with the slots' reason otherwise."""
    stored = job.results.exclude(image="")
    if stored.exists():
        job_transition(job, Status.SUCCEEDED, sources=[Status.SUBMITTED, Status.RUNNING], finished_at=timezone.now(),
                       waiting_reason="", image_count=job.image_count or stored.count())
        return
    first_failure = job.results.exclude(error_code="").first()
    job_fail(job, code=first_failure.error_code if first_failure else "NoImage",
             message=first_failure.error_message if first_failure else "The service returned no image. Try again.")


class NoSuchFile(Exception):
    """The job has no such file (a slot without an image, say)."""


def job_file_open(job: InpaintJob, kind: str, slot: int | None = None, *, preview: bool = False,
                  as_jpeg: bool = False) -> tuple[IO[bytes], str]:
    """One of the job's files for its owner: (open stored file, extension).

    ``kind`` is "base" (the picture as given), "mask", "result" (the finished picture) or
    "raw" (the model's own output for that slot). ``preview`` picks the small WebP the page
    shows where there is one; ``as_jpeg`` turns a finished picture into a JPEG at quality 95.
    What has to be made (a transparent picture put back together, a JPEG) is made once and kept.
    """
    if kind == "mask":
        return job.mask_image.open("rb"), "png"
    if kind == "base":
        if preview and job.base_preview:
            return job.base_preview.open("rb"), "webp"
        if job.base_alpha:
            return _derived(job, TRANSPARENT_PICTURE, lambda: job_picture(job)[0]), "png"
        return job.base_image.open("rb"), job.base_image.name.rsplit(".", 1)[-1]
    result = job.results.filter(slot=slot).exclude(image="").first()
    if result is None or (kind == "raw" and not result.raw_image):
        raise NoSuchFile(f"{kind} {slot}")
    field = {"raw": result.raw_image, "result": result.preview if preview else result.image}[kind]
    if kind == "result" and as_jpeg and not preview:
        def jpeg() -> bytes:
            with field.open("rb") as stored:
                return images.result_as_jpeg(stored.read())

        return _derived(job, RESULT_JPEG.format(slot=slot), jpeg), "jpg"
    return field.open("rb"), field.name.rsplit(".", 1)[-1]


def job_file_read(job: InpaintJob, kind: str, slot: int | None = None) -> bytes:
    """The whole of one of the job's files (see job_file_open), for the server's own use of it."""
    stream, _ = job_file_open(job, kind, slot)
    with stream:
        return stream.read()


def _derived(job: InpaintJob, name: str, make: Callable[[], bytes]) -> IO[bytes]:
    """A file made from the job's own files, stored beside them once. Made under a decode slot of this process
    and with the job's row locked, so parallel first requests on any host decode a 100 MP picture once."""
    storage, path = job.base_image.storage, job_file_path(job, name)
    if not storage.exists(path):
        with decode_bound.decode_slot_take(), transaction.atomic():
            InpaintJob.objects.select_for_update().filter(pk=job.pk).exists()
            if not storage.exists(path):
                storage.save(path, ContentFile(make()))
    return storage.open(path, "rb")


def job_editor_proxy_open(job: InpaintJob, kind: str, slot: int | None, make: Callable[[bytes], bytes]
                          ) -> tuple[IO[bytes], int, int]:
    """The editor's proxy of the job's picture or of a result, made by ``make`` from its bytes once and kept:
    (open stored proxy, full upright width, height)."""
    if kind == "base":
        width, height = job.base_width, job.base_height
    else:
        result = job.results.filter(slot=slot).exclude(image="").first()
        if result is None:
            raise NoSuchFile(f"{kind} {slot}")
        width, height = result.width, result.height
    return _derived(job, EDITOR_PROXY[kind].format(slot=slot), lambda: make(job_file_read(job, kind, slot))), width, height


def job_picture(job: InpaintJob) -> tuple[bytes, str]:
    """The job's picture as the person gave it: (content, extension). A transparent picture
    is stored flattened for the engines; it is shown and reused with its transparency."""
    with job.base_image.open("rb") as base:
        content = base.read()
    if not job.base_alpha:
        return content, job.base_image.name.rsplit(".", 1)[-1]
    with job.base_alpha.open("rb") as alpha:
        return images.with_transparency(content, alpha_png=alpha.read()), "png"
