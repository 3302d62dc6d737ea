"""Storing results: pasted back at the picture's size, downloads that fail, links that expire, bad answers."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.files import names, serving
from inpaint.images import PreparedImage
from inpaint.models import JobResult
from inpaint.services import downloads, polling, results
from inpaint.services.downloads import DownloadFailed, DownloadRefused
from tests.pictures import open_image, picture
from tests.services.fakes import Status, poll_with, reload, submitted_job

pytestmark = pytest.mark.django_db

LINK = "https://oss.example/result.png"


def region_sized_output(job, colour=(0, 90, 255)) -> bytes:
    """What a model returns: an image the size the region was sent at, painted all over."""
    buffer = io.BytesIO()
    Image.new("RGB", (job.region["send_width"], job.region["send_height"]), colour).save(buffer, "PNG")
    return buffer.getvalue()


def succeeded(*slots: SlotResult) -> TaskState:
    return TaskState(status=TaskStatus.SUCCEEDED, results=list(slots))


def answer_downloads(monkeypatch, *answers):
    """result_download answers in turn: bytes, or an exception to raise."""
    queue = list(answers)

    def fake(url):
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(results, "result_download", fake)


def test_a_result_is_pasted_back_at_the_pictures_own_size(cloud):
    job = submitted_job(base=PreparedImage(picture(640, 480), "jpg", 640, 480))
    poll_with(cloud, job, succeeded(SlotResult(content=region_sized_output(job))))
    [result] = reload(job).results.all()
    assert (result.width, result.height) == (640, 480)
    with result.image.open("rb") as stored:
        composed = open_image(stored.read())
    assert composed.format == "PNG" and composed.size == (640, 480)
    # Inside the painted centre quarter: the model's colour; far outside it: the picture's own pixel.
    assert composed.convert("RGB").getpixel((320, 240)) == (0, 90, 255)
    with job.base_image.open("rb") as base:
        original = open_image(base.read()).convert("RGB")
    assert composed.convert("RGB").getpixel((5, 470)) == original.getpixel((5, 470))


def test_the_model_output_and_a_preview_are_kept_beside_the_result(cloud):
    job = submitted_job()
    raw = region_sized_output(job)
    poll_with(cloud, job, succeeded(SlotResult(content=raw)))
    [result] = reload(job).results.all()
    with result.raw_image.open("rb") as stored:
        assert stored.read() == raw
    with result.preview.open("rb") as preview:
        assert open_image(preview.read()).format == "WEBP"


def test_results_of_a_transparent_picture_get_its_transparency_back(cloud):
    transparent = Image.new("L", (320, 320), 0)
    buffer = io.BytesIO()
    transparent.save(buffer, "PNG")
    job = submitted_job(base=PreparedImage(picture(320, 320), "jpg", 320, 320, alpha=buffer.getvalue()))
    poll_with(cloud, job, succeeded(SlotResult(content=region_sized_output(job))))
    [result] = reload(job).results.all()
    with result.image.open("rb") as stored:
        alpha = open_image(stored.read()).getchannel("A")
    # The mask's centre quarter was painted, so it is solid; the rest stays transparent.
    assert alpha.getpixel((160, 160)) == 255 and alpha.getpixel((2, 2)) == 0


def test_half_size_is_half_the_pictures_size(cloud):
    job = submitted_job(base=PreparedImage(picture(640, 480), "jpg", 640, 480), size="half")
    poll_with(cloud, job, succeeded(SlotResult(content=region_sized_output(job))))
    [result] = reload(job).results.all()
    assert (result.width, result.height) == (320, 240)


def test_a_refused_link_fails_its_slot_in_plain_words(cloud, monkeypatch):
    answer_downloads(monkeypatch, DownloadRefused("the link points into a private network"))
    job = submitted_job()
    poll_with(cloud, job, succeeded(SlotResult(url=LINK)))
    result = JobResult.objects.get(job=job, slot=0)
    assert result.error_code == "ResultUnusable"
    assert reload(job).status == Status.FAILED


def test_a_link_answering_403_is_retried_before_it_is_called_expired(cloud, monkeypatch):
    answer_downloads(monkeypatch, DownloadFailed("HTTP 403", 403))
    job = submitted_job()
    state = succeeded(SlotResult(url=LINK))
    for _ in range(results.LINK_REFUSALS_BEFORE_EXPIRED - 1):
        steps = poll_with(cloud, reload(job), state)
        assert [step.action for step in steps] == ["poll"]
        assert reload(job).status == Status.SUBMITTED
    poll_with(cloud, reload(job), state)
    result = JobResult.objects.get(job=job, slot=0)
    assert result.error_code == "ResultExpired"
    assert result.error_message.startswith("This image could not be saved")
    assert reload(job).status == Status.FAILED


def test_a_403_that_recovers_stores_the_image(cloud, monkeypatch):
    job = submitted_job()
    answer_downloads(monkeypatch, DownloadFailed("HTTP 403", 403), region_sized_output(job))
    state = succeeded(SlotResult(url=LINK))
    poll_with(cloud, job, state)
    poll_with(cloud, reload(job), state)
    assert reload(job).status == Status.SUCCEEDED


def test_server_errors_back_off_and_end_in_plain_words(cloud, monkeypatch, settings):
    settings.INPAINT_RETRY_BASE_DELAY = 1.0
    answer_downloads(monkeypatch, DownloadFailed("HTTP 503", 503))
    job = submitted_job()
    state = succeeded(SlotResult(url=LINK))
    countdowns = []
    for _ in range(results.MAX_DOWNLOAD_TRIES):
        countdowns += [step.countdown for step in poll_with(cloud, reload(job), state)]
    assert countdowns[2] >= 2.0  # the third failure waits longer than the first
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == results.DOWNLOAD_GAVE_UP


def test_an_answer_that_is_not_a_picture_fails_its_slot(cloud, monkeypatch):
    answer_downloads(monkeypatch, b"<html>not a picture</html>")
    job = submitted_job()
    poll_with(cloud, job, succeeded(SlotResult(url=LINK)))
    result = JobResult.objects.get(job=job, slot=0)
    assert result.error_code == "NotAPicture"
    assert result.image.name == ""


def test_a_failure_of_the_paste_back_ends_the_slot_instead_of_crashing_again(cloud, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(results.regions, "result_compose", broken)
    job = submitted_job()
    steps = poll_with(cloud, job, succeeded(SlotResult(content=region_sized_output(job))))
    assert steps == []
    result = JobResult.objects.get(job=job, slot=0)
    assert result.error_code == "ComposeFailed"
    assert reload(job).error_message == results.COMPOSE_MESSAGE


def test_downloads_refuse_a_plain_http_link_of_another_host(settings):
    settings.DASHSCOPE_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
    with pytest.raises(DownloadRefused, match="not https"):
        downloads.result_download("http://oss.example/result.png")


def test_downloads_refuse_a_link_into_a_private_network(settings):
    settings.DASHSCOPE_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
    with pytest.raises(DownloadRefused, match="private network"):
        downloads.result_download("https://10.0.0.7/result.png")



def test_the_jpeg_and_the_transparent_picture_are_made_by_the_worker_so_the_views_only_serve_them(cloud, monkeypatch):
    transparent = Image.new("L", (320, 320), 0)
    buffer = io.BytesIO()
    transparent.save(buffer, "PNG")
    job = submitted_job(base=PreparedImage(picture(320, 320), "jpg", 320, 320, alpha=buffer.getvalue()))
    poll_with(cloud, job, succeeded(SlotResult(content=region_sized_output(job))))
    storage = job.base_image.storage
    assert storage.exists(f"jobs/{job.pk}/{names.TRANSPARENT_PICTURE}")
    assert storage.exists(f"jobs/{job.pk}/{names.RESULT_JPEG.format(slot=0)}")

    def decoded(*args, **kwargs):
        raise AssertionError("a request decoded a picture")

    monkeypatch.setattr(results.images, "result_as_jpeg", decoded)
    monkeypatch.setattr(results.images, "with_transparency", decoded)
    job = reload(job)
    jpeg, extension = serving.job_file_open(job, "result", 0, as_jpeg=True)
    with jpeg:
        assert extension == "jpg" and open_image(jpeg.read()).format == "JPEG"
    picture_file, _ = serving.job_file_open(job, "base")
    with picture_file:
        assert open_image(picture_file.read()).mode == "RGBA"
