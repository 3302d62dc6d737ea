"""Reading a job's sources: the picture, the mask and the picture's transparency, as the job was created with
them. The submit step cuts the work region from them, the results step pastes the engine's output back into
them, and the page shows the picture as it was given."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models.fields.files import FieldFile

from inpaint import images


@dataclass(frozen=True)
class JobSources:
    # Flattened when it had transparency (the engines paint on an opaque picture); ``alpha`` holds that apart.
    picture: bytes
    mask: bytes
    alpha: bytes | None


def _stored_read(stored: FieldFile) -> bytes:
    with stored.open("rb") as stream:
        return stream.read()


def _alpha_read(job) -> bytes | None:
    return _stored_read(job.base_alpha) if job.base_alpha else None


def job_sources_read(job) -> JobSources:
    return JobSources(picture=_stored_read(job.base_image), mask=_stored_read(job.mask_image), alpha=_alpha_read(job))


def job_mask_read(job) -> bytes:
    return _stored_read(job.mask_image)


def job_picture(job) -> tuple[bytes, str]:
    """The job's picture as the person gave it: (content, extension). A transparent picture
    is stored flattened for the engines; it is shown and reused with its transparency."""
    content, alpha = _stored_read(job.base_image), _alpha_read(job)
    if alpha is None:
        return content, job.base_image.name.rsplit(".", 1)[-1]
    return images.with_transparency(content, alpha_png=alpha), "png"
