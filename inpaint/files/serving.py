"""Opening one of a job's files: for its owner's page (with the ETag a view answers with), for the editor (its
proxy), and for the server's own use (a picture the server already holds, taken as a new job's picture)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import IO

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.db.models.fields.files import FieldFile

from inpaint import images
from inpaint.files.derived import job_file_derive, job_transparent_picture_open, result_jpeg_open
from inpaint.files.names import EDITOR_PROXY, job_file_download_name
from inpaint.models import InpaintJob, JobResult


class NoSuchFile(Exception):
    """The job has no such file (a slot without an image, say)."""


class BadPart(ValueError):
    """A part of a result that cannot be served, in words for the person."""


def _stored_open(stored: FieldFile) -> tuple[IO[bytes], str]:
    return stored.open("rb"), stored.name.rsplit(".", 1)[-1]


def _result_stored(job: InpaintJob, kind: str, slot: int | None) -> JobResult:
    # Only a slot whose image was stored has files to show; a failed one has none.
    result = job.results.filter(slot=slot).exclude(image="").first()
    if result is None:
        raise NoSuchFile(f"{kind} {slot}")
    return result


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
            return job_transparent_picture_open(job), "png"
        return _stored_open(job.base_image)
    result = _result_stored(job, kind, slot)
    if kind == "raw":
        if not result.raw_image:
            raise NoSuchFile(f"{kind} {slot}")
        return _stored_open(result.raw_image)
    if preview:
        return _stored_open(result.preview)
    if as_jpeg:
        return result_jpeg_open(job, slot, lambda: _whole(result.image.open("rb"))), "jpg"
    return _stored_open(result.image)


def job_file_download_open(job: InpaintJob, kind: str, slot: int | None, *, preview: bool,
                           as_jpeg: bool) -> tuple[IO[bytes], str]:
    """One of the job's files for its owner's page (see job_file_open): (open stored file, the name it is
    served and downloaded under)."""
    stream, extension = job_file_open(job, kind, slot, preview=preview, as_jpeg=as_jpeg)
    return stream, job_file_download_name(job, kind, slot, extension)


def _whole(stream: IO[bytes]) -> bytes:
    with stream:
        return stream.read()


def job_file_read(job: InpaintJob, kind: str, slot: int | None = None) -> bytes:
    """The whole of one of the job's files (see job_file_open), for the server's own use of it."""
    return _whole(job_file_open(job, kind, slot)[0])


def job_file_etag(job: InpaintJob, kind: str, slot: int | None, *, for_editor: bool, preview: bool,
                  file_format: str) -> str:
    """The ETag of one of the job's files in the form asked for: the editor's proxy, the page's preview, or
    ``file_format`` (?format=, "own" when not asked). A job's files never change once written, so the job,
    the file and the form name it; its owner's browser that has it gets 304 before any file is opened or made."""
    form = "editor" if for_editor else ("preview" if preview else file_format)
    return f"{job.pk}-{kind}-{slot}-{form}"


def job_editor_proxy_open(job: InpaintJob, kind: str, slot: int | None, make: Callable[[bytes], bytes]
                          ) -> tuple[IO[bytes], int, int]:
    """The editor's proxy of the job's picture or of a result, made by ``make`` from its bytes once and kept:
    (open stored proxy, full upright width, height)."""
    if kind == "base":
        width, height = job.base_width, job.base_height
    else:
        result = _result_stored(job, kind, slot)
        width, height = result.width, result.height
    proxy = job_file_derive(job, EDITOR_PROXY[kind].format(slot=slot), lambda: make(job_file_read(job, kind, slot)))
    return proxy, width, height


def job_result_part_read(job: InpaintJob, slot: int, box: tuple[int, int, int, int], *, max_side: int) -> bytes:
    """The part ``box`` (left, top, right, bottom) of a finished result at its own pixels, as a PNG. BadPart for
    a box outside the result or with a side over ``max_side``."""
    result = _result_stored(job, "result", slot)
    left, top, right, bottom = box
    if not (0 <= left < right <= result.width and 0 <= top < bottom <= result.height):
        raise BadPart(gettext("That part is outside the result, which is %(width)d × %(height)d px.") % {
            "width": result.width, "height": result.height})
    if max(right - left, bottom - top) > max_side:
        raise BadPart(gettext("A part of a result is at most %(side)d px on a side.") % {"side": max_side})
    return images.picture_part(job_file_read(job, "result", slot), box)


def job_held_picture_read(jobs: QuerySet[InpaintJob] | None, source: str) -> bytes:
    """The bytes of a picture the server holds among ``jobs`` (the person's own), named by ``source``:
    "result:<job id>:<slot>" (a finished result) or "job:<job id>" (a job's own picture). NoSuchFile when
    it names nothing there."""
    kind, _, rest = source.partition(":")
    job_id, _, slot = rest.partition(":")
    try:
        job = jobs.filter(pk=uuid.UUID(job_id)).first() if jobs is not None else None
        if job is None or kind not in ("result", "job"):
            raise NoSuchFile(source)
        return job_file_read(job, "result" if kind == "result" else "base", int(slot) if kind == "result" else None)
    except ValueError:
        raise NoSuchFile(source) from None
