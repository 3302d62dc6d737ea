"""The official ``dashscope`` SDK, a real client we did not write, against the app's gateway on the live server,
with a real Celery worker on Redis and the DashScope stand-in behind the app: scripts change only their base URL
and their key, send local files through the gateway's own temporary upload, and wait() as against DashScope."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import assert_each_paid_once, cloud_worker, downloaded_size, person_key

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHOTO_SIZE = (900, 700)


@pytest.fixture
def local_files(tmp_path):
    photo, mask = tmp_path / "photo.jpg", tmp_path / "mask.png"
    photo.write_bytes(pictures.picture(*PHOTO_SIZE))
    mask.write_bytes(pictures.mask(*PHOTO_SIZE))
    return str(photo), str(mask)


def script(sdk, key: str, photo: str, mask: str, prompt: str = "a red kite"):
    """What a user's script does, word for word as the SDK's own sample."""
    created = sdk.ImageSynthesis.async_call(model="wanx-x-painting", task="image2image", prompt=prompt,
                                            base_image_url=photo, mask_image_url=mask, n=1, size="1024*1024",
                                            api_key=key)
    assert created.status_code == 200, (created.code, created.message)
    return created, sdk.ImageSynthesis.wait(created, api_key=key)


def test_an_sdk_script_with_local_files_waits_for_its_job_and_gets_the_photo_back_at_its_size(
        live_server, dashscope, standin_settings, start_worker, sdk, local_files):
    cloud_worker(start_worker, dashscope, live_server)
    key, other = person_key("ada"), person_key("grace")

    created, finished = script(sdk, key, *local_files)

    assert finished.status_code == 200
    assert finished.output.task_status == "SUCCEEDED", finished
    assert finished.usage.image_count == 1
    (result,) = finished.output.results
    assert downloaded_size(result.url) == PHOTO_SIZE
    job = InpaintJob.objects.get()
    assert str(job.pk) == created.output.task_id
    assert job.owner.username == "ada"
    # The app sent the service its work region, never the script's URLs.
    (task,) = dashscope.tasks.values()
    assert task.received_base.size != PHOTO_SIZE

    wrong = sdk.ImageSynthesis.fetch(created.output.task_id, api_key="sk-0123456789wrong")
    assert (wrong.status_code, wrong.code) == (401, "InvalidApiKey")
    assert wrong.message and wrong.request_id
    elsewhere = sdk.ImageSynthesis.fetch(created.output.task_id, api_key=other)
    assert (elsewhere.status_code, elsewhere.code) == (404, "NotFound")


@pytest.mark.parametrize("url", ["{live}/static/inpaint/samples/cat.jpg", "https://10.1.2.3/photo.jpg",
                                 "https://[::1]/photo.jpg"], ids=["loopback", "private", "IPv6 loopback"])
def test_a_url_into_the_apps_own_network_is_refused(live_server, standin_settings, sdk, local_files, url):
    created = sdk.ImageSynthesis.async_call(model="wanx-x-painting", task="image2image", prompt="a red kite",
                                            base_image_url=url.format(live=live_server.url),
                                            mask_image_url=local_files[1], api_key=person_key("ada"))

    assert (created.status_code, created.code) == (400, "InvalidParameter")
    assert "base_image_url" in created.message
    assert not InpaintJob.objects.exists()


def test_six_scripts_over_two_keys_all_succeed_through_the_queue(
        live_server, dashscope, standin_settings, start_worker, sdk, local_files):
    cloud_worker(start_worker, dashscope, live_server)
    script_keys = [person_key("ada"), person_key("grace")] * 3

    with ThreadPoolExecutor(max_workers=6) as pool:
        runs = list(pool.map(lambda index: script(sdk, script_keys[index], *local_files, prompt=f"kite {index}"),
                             range(6)))

    for _, finished in runs:
        assert finished.output.task_status == "SUCCEEDED", finished
        assert downloaded_size(finished.output.results[0].url) == PHOTO_SIZE
    jobs = list(InpaintJob.objects.all())
    assert_each_paid_once(jobs, dashscope)
    # The account's limits were the app's to keep: no 429 from the service, one task running at a time.
    assert dashscope.throttled == 0
    timeline = sorted(dashscope.running_timeline)
    assert all(earlier[1] <= later[0] for earlier, later in zip(timeline, timeline[1:]))


def test_a_script_that_sends_more_tasks_than_its_jobs_in_progress_has_them_wait_and_all_succeed(
        live_server, dashscope, standin_settings, start_worker, sdk, local_files, settings):
    settings.INPAINT_MAX_ACTIVE_JOBS = 1
    dashscope.running_seconds = 600.0  # the first task runs until the others are seen waiting
    cloud_worker(start_worker, dashscope, live_server, INPAINT_MAX_ACTIVE_JOBS="1")
    key = person_key("ada")

    created = [sdk.ImageSynthesis.async_call(model="wanx-x-painting", task="image2image", prompt=f"kite {index}",
                                             base_image_url=local_files[0], mask_image_url=local_files[1],
                                             api_key=key) for index in range(3)]

    assert [task.status_code for task in created] == [200] * 3, [task.message for task in created]
    assert InpaintJob.objects.filter(held=True).count() == 2  # waiting, as PENDING on DashScope, not refused
    dashscope.running_seconds = 0.3
    dashscope.end_running_tasks_now()
    for task in created:
        finished = sdk.ImageSynthesis.wait(task, api_key=key)
        assert finished.output.task_status == "SUCCEEDED", finished
    assert_each_paid_once(list(InpaintJob.objects.all()), dashscope)
