"""Retention: old jobs go with their files, and deleting a job anywhere (the page, the admin, the
clean-up) deletes its files. Unfinished jobs are never removed."""

from __future__ import annotations

import datetime
import logging
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from inpaint.models import InpaintJob, JobResult
from inpaint.services.jobs import job_cancel
from inpaint.files.names import job_derived_paths
from inpaint.services.refusals import JobActionRefused

logger = logging.getLogger(__name__)


def _files_delete(*fields, derived: tuple = ()) -> None:
    """Delete the files of these fields (and ``derived``: (storage, name) pairs made on request)."""
    names = [(field.storage, field.name) for field in fields if field] + list(derived)

    def delete() -> None:
        for storage, name in names:
            storage.delete(name)

    # After the commit: a deletion that is rolled back must not have lost the files.
    transaction.on_commit(delete)


@receiver(post_delete, sender=InpaintJob, dispatch_uid="inpaint.job_files_delete")
def job_files_delete(sender, instance: InpaintJob, **kwargs) -> None:
    storage = instance.base_image.storage
    _files_delete(instance.base_image, instance.mask_image, instance.base_alpha, instance.base_preview,
                  instance.region_image, instance.region_mask,
                  derived=tuple((storage, name) for name in job_derived_paths(instance)))


@receiver(post_delete, sender=JobResult, dispatch_uid="inpaint.result_files_delete")
def result_files_delete(sender, instance: JobResult, **kwargs) -> None:
    _files_delete(instance.image, instance.raw_image, instance.preview)


def job_delete(job: InpaintJob) -> None:
    """The owner deletes a job and its files. A job still waiting is cancelled first; one that is
    being painted is refused, so a paid result is never thrown away unseen."""
    if not job.is_final:
        try:
            job_cancel(job)
        except JobActionRefused:
            raise JobActionRefused("It is being painted; delete it once it has finished.") from None
    job.delete()


def jobs_expire() -> int:
    """Delete finished jobs older than INPAINT_RETENTION_DAYS, and expired sessions. Returns the jobs deleted."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.INPAINT_RETENTION_DAYS)
    old = InpaintJob.objects.filter(status__in=sorted(InpaintJob.FINAL_STATUSES), created_at__lt=cutoff)
    count = 0
    for job in old.iterator():
        with transaction.atomic():
            job.delete()
        count += 1
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    if count:
        logger.info("retention: deleted %d jobs older than %d days", count, settings.INPAINT_RETENTION_DAYS)
    return count
