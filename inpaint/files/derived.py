"""Files made from a job's own and stored beside them (their names are in inpaint.files.names): the picture
with its transparency put back, a result as JPEG, the editor's proxies. The results step makes the first two
as it stores a result, so a page only serves them; for a job stored before that, they are made on request.
inpaint.files.deletion deletes them with the job."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from django.core.files.base import ContentFile
from django.db import transaction

from inpaint import decode_bound, images
from inpaint.files.names import RESULT_JPEG, TRANSPARENT_PICTURE, job_file_path
from inpaint.files.sources import job_picture
from inpaint.models import InpaintJob


def job_file_derive(job: InpaintJob, name: str, make: Callable[[], bytes]) -> IO[bytes]:
    """The file ``name`` made by ``make`` from the job's own files, stored once: (open stored file). Made under
    a decode slot of this process and with the job's row locked, so parallel first requests on any host decode
    a 100 MP picture once."""
    storage, path = job.base_image.storage, job_file_path(job, name)
    if not storage.exists(path):
        with decode_bound.decode_slot_take(), transaction.atomic():
            InpaintJob.objects.select_for_update().filter(pk=job.pk).exists()
            if not storage.exists(path):
                storage.save(path, ContentFile(make()))
    return storage.open(path, "rb")


def job_transparent_picture_open(job: InpaintJob) -> IO[bytes]:
    """The picture of a job with transparency, put back together from its flattened picture and its alpha."""
    return job_file_derive(job, TRANSPARENT_PICTURE, lambda: job_picture(job)[0])


def result_jpeg_open(job: InpaintJob, slot: int, png: Callable[[], bytes]) -> IO[bytes]:
    """A finished result as a JPEG at quality 95, made from ``png`` (the stored result's bytes)."""
    return job_file_derive(job, RESULT_JPEG.format(slot=slot), lambda: images.result_as_jpeg(png()))
