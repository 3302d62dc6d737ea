"""Batches: one mask, one prompt and one set of options over many photos, one job per photo.

The browser sends the first photo with its mask and the options (batch_create), then every other photo on its
own (batch_photo_add), so no post is larger than a single job's. Each photo's job is stored held: the batch
releases its jobs a few at a time (BATCH_WINDOW), never past the person's jobs in progress, so a batch of fifty
waits instead of being refused, and other people's single jobs take their turns between its jobs. A release
happens when the batch starts, when one of its jobs ends and, for anything missed (a killed worker), at every
sweep; it is counted under the lock that job creation takes, so it runs twice without releasing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from inpaint import images, images_batch
from inpaint.files.sources import job_mask_read
from inpaint.models import Batch, InpaintJob, RoomGuest
from inpaint.options import CONTROL_DEFAULTS
from inpaint.services import job_requests
from inpaint.services.holds import held_jobs_release, person_room
from inpaint.services.jobs import creation_locked, job_cancel, job_create
from inpaint.services.owners import owner_key_for
from inpaint.services.refusals import JobActionRefused, JobRequestRefused
from inpaint.services.resend import job_request_repeat
from inpaint.services.rooms import room_limits_check
from inpaint.services.scheduling import Steps
from inpaint.services.states import IN_FLIGHT, Status, job_transition
from inpaint.services.usage import usage_limits_check

# A batch's jobs released at once: one painting while the next waits for its turn, so the account's slot never
# idles between two photos, and the queue never holds more of one batch than that.
BATCH_WINDOW = 2
# Stored in English, translated where the card shows it.
OTHER_SHAPE_REASON = gettext_noop("It has another shape than the first photo, and the batch skips those.")
FULL_REASON = gettext_noop("The batch takes no more photos: all it was started with have come, or it was cancelled.")
FIRST_GONE_MESSAGE = gettext_noop("The batch's first photo was deleted, so its mask is gone; start a new batch.")


class BatchFull(JobActionRefused):
    """A photo sent after every photo the batch was started with had come, or after it was cancelled."""


@dataclass(frozen=True)
class Owner:
    """Whose batch it is, as job_create takes it."""
    user: object
    visitor_id: str
    guest: RoomGuest | None = None

    @property
    def key(self) -> str:
        return self.guest.owner_key if self.guest is not None else owner_key_for(self.user, self.visitor_id)


@dataclass(frozen=True)
class BatchProgress:
    """What the batch's card says: of ``photos``, how many were sent and how their jobs stand."""
    photos: int
    sent: int
    done: int
    failed: int
    canceled: int
    skipped: int

    @property
    def ended(self) -> int:
        return self.done + self.failed + self.canceled + self.skipped

    @property
    def finished(self) -> bool:
        """Every photo that will come has come, and every job has ended."""
        return self.sent == self.photos and self.ended == self.sent


def batch_create(first: job_requests.JobRequest, *, owner: Owner, photo_count: int, other_shapes: str,
                 source_name: str) -> tuple[Batch, Steps]:
    """Start a batch of ``photo_count`` photos with the first one's request; raises JobActionRefused when the whole
    batch would pass a cap (counted before anything starts), saying what it would cost."""
    batch = Batch(owner_key=owner.key, photo_count=photo_count, other_shapes=other_shapes)
    images_asked = first.n * photo_count
    with creation_locked():
        try:
            if owner.guest is not None:
                room_limits_check(owner.guest, first.engine, images_asked)
            usage_limits_check(first.engine, images_asked, owner.key, in_progress_counted=False)
        except JobActionRefused as refusal:
            cost = ngettext("This batch would make %(count)d image.", "This batch would make %(count)d images.",
                            images_asked) % {"count": images_asked}
            raise JobActionRefused(f"{cost} {refusal}") from None
        batch.save()
    job, _ = job_create(first, user=owner.user, visitor_id=owner.visitor_id, guest=owner.guest, batch=batch,
                        source_name=source_name)
    Batch.objects.filter(pk=batch.pk).update(first_job=job)
    batch.first_job = job
    return batch, batch_release(batch)


def batch_photo_add(batch: Batch, upload: UploadedFile, *, owner: Owner) -> Steps:
    """One more photo of the batch: a held job with the first photo's mask and options, or a line in ``skipped``
    saying why not (another shape, a picture refused, a cap reached); raises BatchFull when it takes no more photos.
    Decoding is costly: the caller holds a decode slot (inpaint.decode_bound)."""
    name = upload.name or ""
    if batch_progress(batch).sent >= batch.photo_count:
        raise BatchFull(gettext(FULL_REASON))
    try:
        request = _photo_request(batch, upload)
        job_create(request, user=owner.user, visitor_id=owner.visitor_id, guest=owner.guest, batch=batch,
                   source_name=name)
    except JobRequestRefused as refusal:
        _skipped_add(batch, name, " ".join(refusal.errors.values()))
    except (JobActionRefused, images.ImageRefused) as refusal:
        _skipped_add(batch, name, str(refusal))
    return batch_release(batch)


def _photo_request(batch: Batch, upload: UploadedFile) -> job_requests.JobRequest:
    first = batch.first_job
    if first is None:
        raise JobActionRefused(gettext(FIRST_GONE_MESSAGE))
    # Before reading: a file over the limit is never taken into memory.
    images.check_file_size(upload.size, what="picture", max_bytes=settings.INPAINT_MAX_UPLOAD_BYTES)
    size, first_size = images.picture_upright_size(upload.read()), (first.base_width, first.base_height)
    upload.seek(0)
    mask = job_mask_read(first)
    if not images_batch.shape_matches(size, first_size):
        if batch.other_shapes != Batch.OtherShapes.RELATIVE:
            raise JobActionRefused(gettext(OTHER_SHAPE_REASON))
        mask = images_batch.mask_stretch(mask, size)
    # Checked as the first photo was: the same limits and refusals, each photo against its own size.
    cleaned = {control: getattr(first, control) for control in CONTROL_DEFAULTS} | {
        "engine": first.engine, "prompt": first.prompt, "base_image": upload, "base_source": "", "mask_color": [],
        "mask_image": SimpleUploadedFile("mask.png", mask, "image/png")}
    return job_requests.job_request_make(cleaned, owned_jobs=None)


def _skipped_add(batch: Batch, name: str, reason: str) -> None:
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        locked.skipped = [*locked.skipped, {"name": name[:200], "reason": reason[:500]}]
        locked.save(update_fields=["skipped"])
    batch.skipped = locked.skipped


def batch_release(batch: Batch) -> Steps:
    """Release the batch's next held jobs, as many as its window and the person's jobs in progress allow, with the
    first step of each for the caller to send."""
    with creation_locked():
        jobs = InpaintJob.objects.filter(batch=batch)
        room = person_room(batch.owner_key, BATCH_WINDOW - jobs.filter(IN_FLIGHT, held=False).count())
        return held_jobs_release(jobs, room)


def batch_job_ended(job: InpaintJob) -> Steps:
    """After a step of ``job``: if it was a batch's and has ended, the batch's next job takes its place."""
    if job.batch_id is None or not job.is_final:
        return []
    batch = Batch.objects.filter(pk=job.batch_id).first()
    return batch_release(batch) if batch is not None else []


def batches_release() -> Steps:
    """Every batch with held jobs releases what it may: what a release missed (a worker killed after a job ended)."""
    waiting = Batch.objects.filter(jobs__held=True, jobs__status=Status.QUEUED).distinct()
    return [step for batch in waiting for step in batch_release(batch)]


def batch_progress(batch: Batch) -> BatchProgress:
    counts = {status: 0 for status in (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)}
    sent = 0
    for status in InpaintJob.objects.filter(batch=batch).values_list("status", flat=True):
        sent += 1
        if status in counts:
            counts[status] += 1
    return BatchProgress(photos=batch.photo_count, sent=sent + len(batch.skipped), done=counts[Status.SUCCEEDED],
                         failed=counts[Status.FAILED], canceled=counts[Status.CANCELED], skipped=len(batch.skipped))


def batch_cancel(batch: Batch) -> Steps:
    """Cancel every job of the batch that has not started painting, and take no more photos; returns the steps that
    follow."""
    now = timezone.now()
    steps: Steps = []
    Batch.objects.filter(pk=batch.pk).update(photo_count=batch_progress(batch).sent)
    batch.refresh_from_db()
    for job in InpaintJob.objects.filter(batch=batch, status__in=[Status.QUEUED, Status.SUBMITTED]):
        if job.held:
            job_transition(job, Status.CANCELED, sources=[Status.QUEUED], finished_at=now, waiting_reason="")
            continue
        try:
            steps += job_cancel(job)
        except JobActionRefused:
            pass  # it started painting meanwhile: it ends as it will
    return steps


def batch_retry(batch: Batch, *, owner: Owner) -> Steps:
    """Make each failed job of the batch again, held like the others; the failed one leaves the batch and stays in
    the history as it ended. Raises JobActionRefused past a cap, with the jobs made until then kept."""
    for failed in InpaintJob.objects.filter(batch=batch, status=Status.FAILED):
        again, _ = job_create(job_request_repeat(failed), user=owner.user, visitor_id=owner.visitor_id,
                              guest=owner.guest, batch=batch, source_name=failed.source_name)
        InpaintJob.objects.filter(pk=failed.pk).update(batch=None)
        if batch.first_job_id == failed.pk:
            # Photos still to come take the mask from the job made again.
            Batch.objects.filter(pk=batch.pk).update(first_job=again)
            batch.first_job = again
    return batch_release(batch)
