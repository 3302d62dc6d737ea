"""A job's files (inpaint.files): where each is stored, its sources read once, the files made on request,
opening one with its download name and ETag, and the list of what goes with the job."""

from __future__ import annotations

import io
import uuid
from types import SimpleNamespace

import pytest
from PIL import Image

from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.files import deletion, names, serving, sources
from inpaint.images import PreparedImage
from inpaint.models import InpaintJob
from inpaint.services import results
from tests.pictures import open_image, picture
from tests.services.fakes import make_job, reload, submitted_job

# No step of the jobs made here reaches a broker.
pytestmark = pytest.mark.usefixtures("sent_steps")

JOB_ID = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")


def test_every_file_of_a_job_is_stored_under_the_job_s_own_folder():
    job = SimpleNamespace(pk=JOB_ID)
    result = SimpleNamespace(job=job, slot=2)
    folder = f"jobs/{JOB_ID}/"
    assert names.base_image_path(job, "photo.PNG") == folder + "base.png"
    assert names.base_image_path(job, "photo.webp") == folder + "base.jpg"
    assert names.mask_image_path(job, "anything") == folder + "mask.png"
    assert names.base_alpha_path(job, "x") == folder + "base-alpha.png"
    assert names.base_preview_path(job, "x") == folder + "base-preview.webp"
    assert names.region_image_path(job, "region.jpg") == folder + "region.jpg"
    assert names.region_image_path(job, "region") == folder + "region.png"
    assert names.region_mask_path(job, "x") == folder + "region-mask.png"
    assert names.result_image_path(result, "result.png") == folder + "result-2.png"
    assert names.result_raw_path(result, "model-output.webp") == folder + "result-2-model-output.webp"
    assert names.result_preview_path(result, "x") == folder + "result-2-preview.webp"


def test_the_derived_paths_name_each_file_that_can_be_made_for_every_slot():
    job = SimpleNamespace(pk=JOB_ID, n=2)
    folder = f"jobs/{JOB_ID}/"
    assert sorted(names.job_derived_paths(job)) == sorted(folder + name for name in (
        "base-with-transparency.png", "base-editor.jpg",
        "result-0.jpg", "result-0-editor.jpg", "result-1.jpg", "result-1-editor.jpg"))


def test_a_download_is_named_after_the_job_what_it_is_and_its_slot_counted_from_one():
    job = SimpleNamespace(pk=JOB_ID)
    assert names.job_file_download_name(job, "result", 0, "png") == "inpaint-12345678-result-1.png"
    assert names.job_file_download_name(job, "mask", None, "png") == "inpaint-12345678-mask.png"


def transparent_job() -> InpaintJob:
    """A sent job whose picture had transparency (so every derived file can be made for it)."""
    alpha = io.BytesIO()
    Image.new("L", (320, 320), 0).save(alpha, "PNG")
    return submitted_job(base=PreparedImage(picture(320, 320), "jpg", 320, 320, alpha=alpha.getvalue()))


def finished(job: InpaintJob) -> InpaintJob:
    results.job_results_store(job, TaskState(status=TaskStatus.SUCCEEDED,
                                             results=[SlotResult(content=picture(64, 64, fmt="PNG"))]))
    return reload(job)


def stored_paths(media_root) -> set[str]:
    return {path.relative_to(media_root).as_posix() for path in media_root.rglob("*") if path.is_file()}


@pytest.mark.django_db
def test_the_delete_list_names_every_file_a_job_and_its_results_can_have(media_root):
    job = finished(transparent_job())
    # Every file made on request, made: the picture with transparency, the JPEG, the editor's proxies.
    for kind, slot in (("base", None), ("result", 0)):
        serving.job_editor_proxy_open(job, kind, slot, lambda data: b"proxy")[0].close()
    serving.job_file_open(job, "result", 0, as_jpeg=True)[0].close()
    listed = deletion.job_files_list(job) + deletion.result_files_list(job.results.get())
    assert {name for _, name in listed} == stored_paths(media_root)
    assert {f"jobs/{job.pk}/{name}" for name in (names.TRANSPARENT_PICTURE, names.RESULT_JPEG.format(slot=0))} \
        <= {name for _, name in listed}


@pytest.mark.django_db(transaction=True)  # files go once the deletion has committed
def test_a_job_s_files_go_with_it_even_by_a_queryset_delete(media_root):
    job = finished(transparent_job())
    serving.job_editor_proxy_open(job, "base", None, lambda data: b"proxy")[0].close()
    InpaintJob.objects.filter(pk=job.pk).delete()
    assert stored_paths(media_root) == set()


@pytest.mark.django_db
def test_the_sources_are_read_as_stored_with_the_transparency_apart():
    job = transparent_job()
    read = sources.job_sources_read(job)
    with job.base_image.open("rb") as base, job.mask_image.open("rb") as mask_file:
        assert (read.picture, read.mask) == (base.read(), mask_file.read())
    assert open_image(read.alpha).mode == "L"
    assert sources.job_sources_read(make_job()).alpha is None


@pytest.mark.django_db
def test_the_picture_as_given_has_its_transparency_back():
    content, extension = sources.job_picture(transparent_job())
    assert extension == "png" and open_image(content).mode == "RGBA"
    assert sources.job_picture(make_job())[1] == "jpg"


@pytest.mark.django_db
def test_a_slot_without_an_image_or_a_model_output_is_no_such_file():
    job = finished(submitted_job())
    with pytest.raises(serving.NoSuchFile):
        serving.job_file_open(job, "result", 1)
    job.results.update(raw_image="")
    with pytest.raises(serving.NoSuchFile):
        serving.job_file_open(job, "raw", 0)
    with pytest.raises(serving.NoSuchFile):
        serving.job_editor_proxy_open(job, "result", 1, lambda data: data)


def test_the_etag_names_the_job_the_file_and_the_form_asked_for():
    job = SimpleNamespace(pk=JOB_ID)
    assert serving.job_file_etag(job, "result", 0, for_editor=False, preview=False, file_format="jpeg") == \
        f"{JOB_ID}-result-0-jpeg"
    assert serving.job_file_etag(job, "base", None, for_editor=False, preview=True, file_format="own") == \
        f"{JOB_ID}-base-None-preview"
    # The editor's proxy is one form whatever the query says.
    assert serving.job_file_etag(job, "base", None, for_editor=True, preview=True, file_format="jpeg") == \
        f"{JOB_ID}-base-None-editor"


@pytest.mark.django_db
def test_a_held_picture_is_found_among_the_person_s_own_jobs_only():
    job = finished(submitted_job())
    own = InpaintJob.objects.filter(pk=job.pk)
    with job.results.get().image.open("rb") as result:
        assert serving.job_held_picture_read(own, f"result:{job.pk}:0") == result.read()
    with job.base_image.open("rb") as base:
        assert serving.job_held_picture_read(own, f"job:{job.pk}") == base.read()
    for source in (f"result:{job.pk}:1", f"result:{job.pk}:x", "job:not-a-uuid", f"mask:{job.pk}", ""):
        with pytest.raises(serving.NoSuchFile):
            serving.job_held_picture_read(own, source)
    with pytest.raises(serving.NoSuchFile):
        serving.job_held_picture_read(InpaintJob.objects.none(), f"job:{job.pk}")
    with pytest.raises(serving.NoSuchFile):
        serving.job_held_picture_read(None, f"job:{job.pk}")


@pytest.mark.django_db
def test_a_file_for_the_page_comes_with_its_download_name():
    job = finished(submitted_job())
    stream, filename = serving.job_file_download_open(job, "result", 0, preview=False, as_jpeg=True)
    with stream:
        assert open_image(stream.read()).format == "JPEG"
    assert filename == f"inpaint-{str(job.pk)[:8]}-result-1.jpg"
