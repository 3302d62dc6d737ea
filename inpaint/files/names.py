"""Where a job's files are stored: the upload_to functions of the models' file fields, the names of the files
made from them on request, and the name a download is given. Imports no model, so inpaint.models can import it.

Every file of a job lives under jobs/<job id>/, so a job's files can be listed (and deleted) from the job alone.
"""

from __future__ import annotations

# Files made from the stored ones: in the worker as the results are stored; for a job stored before that,
# once, on the first request.
TRANSPARENT_PICTURE = "base-with-transparency.png"
RESULT_JPEG = "result-{slot}.jpg"
# The editor's upright JPEG proxy of a picture over its side (options.PROXY_MAX_SIDE), for "Use as new base".
EDITOR_PROXY = {"base": "base-editor.jpg", "result": "result-{slot}-editor.jpg"}


def job_file_path(job, name: str) -> str:
    return f"jobs/{job.pk}/{name}"


def _extension(filename: str) -> str:
    return "." + filename.rsplit(".", 1)[-1] if "." in filename else ".png"


# The upload_to functions: (instance, the name the file was saved with) -> its storage name.

def base_image_path(job, filename: str) -> str:
    return job_file_path(job, "base" + (".png" if filename.lower().endswith(".png") else ".jpg"))


def mask_image_path(job, filename: str) -> str:
    return job_file_path(job, "mask.png")


def base_alpha_path(job, filename: str) -> str:
    return job_file_path(job, "base-alpha.png")


def base_preview_path(job, filename: str) -> str:
    return job_file_path(job, "base-preview.webp")


def region_image_path(job, filename: str) -> str:
    return job_file_path(job, "region" + _extension(filename))


def region_mask_path(job, filename: str) -> str:
    return job_file_path(job, "region-mask.png")


def result_image_path(result, filename: str) -> str:
    return job_file_path(result.job, f"result-{result.slot}{_extension(filename)}")


def result_raw_path(result, filename: str) -> str:
    return job_file_path(result.job, f"result-{result.slot}-model-output{_extension(filename)}")


def result_preview_path(result, filename: str) -> str:
    return job_file_path(result.job, f"result-{result.slot}-preview.webp")


def job_derived_paths(job) -> list[str]:
    """The storage names of every file that may have been made from the job's own (see inpaint.files.derived)."""
    return [job_file_path(job, TRANSPARENT_PICTURE), job_file_path(job, EDITOR_PROXY["base"])] + [
        job_file_path(job, name.format(slot=slot)) for slot in range(job.n)
        for name in (RESULT_JPEG, EDITOR_PROXY["result"])]


def job_file_download_name(job, kind: str, slot: int | None, extension: str) -> str:
    """What a downloaded file is called: the job's short id, what it is, and the slot counted from 1."""
    suffix = "" if slot is None else f"-{slot + 1}"
    return f"inpaint-{str(job.pk)[:8]}-{kind}{suffix}.{extension}"
