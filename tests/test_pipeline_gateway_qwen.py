"""The official ``dashscope`` SDK's synchronous Qwen call (``MultiModalConversation.call``) against the app's gateway
on the live server, with a real Celery worker on Redis and the DashScope stand-in behind the app: a local file goes
through the gateway's own temporary upload, the answer waits for the job's turn, and the edited picture comes back
at its own size; a call that outlasts the wait is answered with its task, which goes on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import cloud_worker, downloaded_size, person_key

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHOTO_SIZE = (2400, 1600)
MODEL = "qwen-image-edit-plus"


@pytest.fixture
def photo(tmp_path) -> str:
    path = tmp_path / "photo.jpg"
    path.write_bytes(pictures.picture(*PHOTO_SIZE))
    return str(path)


def edit(sdk, key: str, photo: str, prompt: str = "make it snow"):
    """What a user's script does, as the SDK's own sample for the model: a local file and one instruction."""
    return sdk.MultiModalConversation.call(model=MODEL, api_key=key, n=1, watermark=False, messages=[
        {"role": "user", "content": [{"image": f"file://{photo}"}, {"text": prompt}]}])


def test_two_scripts_edit_a_local_photo_and_get_it_back_at_its_size_through_the_queue(
        live_server, dashscope, standin_settings, start_worker, sdk, photo):
    cloud_worker(start_worker, dashscope, live_server)
    script_keys = [person_key("ada"), person_key("grace")]

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda index: edit(sdk, script_keys[index], photo, f"snow {index}"), range(2)))

    for answer in answers:
        assert answer.status_code == 200, (answer.code, answer.message)
        [choice] = answer.output.choices
        assert choice.finish_reason == "stop"
        [image] = choice.message.content
        assert downloaded_size(image["image"]) == PHOTO_SIZE
        assert (answer.usage.image_count, answer.usage.width, answer.usage.height) == (1, *PHOTO_SIZE)
    jobs = list(InpaintJob.objects.order_by("prompt"))
    assert [job.owner.username for job in jobs] == ["ada", "grace"]
    assert all(job.status == InpaintJob.Status.SUCCEEDED for job in jobs)
    # One paid call each, and the account's limits were the app's to keep.
    assert dashscope.generations_answered == 2 and dashscope.throttled == 0
    # The service got the app's own region, sized for the model, never the script's file.
    for generation in dashscope.generations.values():
        [received] = generation.received_images
        assert max(received.size) <= 2048 and all(side % 16 == 0 for side in received.size)


def test_a_call_that_outlasts_the_wait_is_answered_with_its_task_which_goes_on(
        live_server, dashscope, standin_settings, start_worker, sdk, photo, settings):
    settings.INPAINT_API_GENERATION_WAIT = 1.0
    dashscope.generation_seconds = 6.0
    cloud_worker(start_worker, dashscope, live_server)
    key = person_key("ada")

    answer = edit(sdk, key, photo)

    assert (answer.status_code, answer.code) == (504, "RequestTimeOut"), answer
    job = InpaintJob.objects.get()
    assert str(job.pk) in answer.message
    finished = sdk.ImageSynthesis.wait(str(job.pk), api_key=key)
    assert finished.output.task_status == "SUCCEEDED", finished
    assert downloaded_size(finished.output.results[0].url) == PHOTO_SIZE
    assert dashscope.generations_answered == 1
