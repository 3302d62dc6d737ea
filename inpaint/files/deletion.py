"""Deleting a job's files with it: those its fields name, those made from them on request (inpaint.files.derived),
and each result's own. The post_delete receivers here are connected in inpaint.apps (see there for why a signal)."""

from __future__ import annotations

from django.core.files.storage import Storage
from django.db import transaction

from inpaint.files.names import job_derived_paths
from inpaint.models import InpaintJob, JobResult

StoredFile = tuple[Storage, str]


def _stored(*fields) -> list[StoredFile]:
    return [(field.storage, field.name) for field in fields if field]


def job_files_list(job: InpaintJob) -> list[StoredFile]:
    """Every file the job itself may have in storage (its results' files are theirs): (storage, name) pairs."""
    storage = job.base_image.storage
    return _stored(job.base_image, job.mask_image, job.base_alpha, job.base_preview, job.region_image,
                   job.region_mask) + [(storage, name) for name in job_derived_paths(job)]


def result_files_list(result: JobResult) -> list[StoredFile]:
    return _stored(result.image, result.raw_image, result.preview)


def _files_delete(files: list[StoredFile]) -> None:
    def delete() -> None:
        for storage, name in files:
            storage.delete(name)

    # After the commit: a deletion that is rolled back must not have lost the files.
    transaction.on_commit(delete)


def job_deleted(sender, instance: InpaintJob, **kwargs) -> None:
    """post_delete of a job: its files go once the deletion has committed."""
    _files_delete(job_files_list(instance))


def result_deleted(sender, instance: JobResult, **kwargs) -> None:
    """post_delete of a result (a job's results are deleted with it, before it)."""
    _files_delete(result_files_list(instance))


def job_sources_delete(job: InpaintJob) -> None:
    """Delete the sources saved for a job whose row was never inserted: no row names them, so nothing else would
    ever delete them; at once, as no commit of that row will come to wait for."""
    for stored in (job.base_image, job.mask_image, job.base_alpha):
        if stored:
            stored.storage.delete(stored.name)
