"""A batch's results as one ZIP, written while it is sent: each result read from storage in chunks as its entry
is reached, nothing kept but the archive's directory, so fifty 24 MP results cost the web process no more memory
than one chunk. Entries are stored, not deflated: the results are PNG or JPEG, already compressed.

Each result keeps its photo's own name ("beach.jpg" gives "beach.png", "beach-2.png" for a second image); two
photos of one name are told apart by a number, as a file manager does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from zipstream import ZIP_STORED, ZipStream

from inpaint.models import InpaintJob, JobResult

CHUNK_BYTES = 1024 * 1024
# What a name inside an archive must not hold: a folder separator (no entry may land outside the folder it is
# unpacked in) or a control character.
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
STEM_MAX_CHARS = 120


def _stem(job: InpaintJob, index: int) -> str:
    name = UNSAFE_NAME.sub("_", job.source_name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem[:STEM_MAX_CHARS] or f"photo-{index + 1}"


def archive_entries(jobs: Iterable[InpaintJob]) -> list[tuple[JobResult, str]]:
    """Each stored result of ``jobs`` with its name in the archive, in the order given."""
    entries, taken = [], set()
    for index, job in enumerate(jobs):
        stored = [result for result in job.results.all() if result.image]
        for result in stored:
            extension = result.image.name.rsplit(".", 1)[-1]
            base = _stem(job, index) + (f"-{result.slot + 1}" if len(stored) > 1 else "")
            name, copy = f"{base}.{extension}", 1
            while name.lower() in taken:
                copy += 1
                name = f"{base} ({copy}).{extension}"
            taken.add(name.lower())
            entries.append((result, name))
    return entries


def _chunks(result: JobResult) -> Iterator[bytes]:
    with result.image.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def archive_stream(entries: list[tuple[JobResult, str]]) -> ZipStream:
    """The ZIP of ``entries``, iterated chunk by chunk as it is sent."""
    archive = ZipStream(compress_type=ZIP_STORED)
    for result, name in entries:
        archive.add(_chunks(result), name)
    return archive
