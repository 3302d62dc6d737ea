"""Media in an S3-compatible bucket, with web and workers as separate hosts that share no disk.

The bucket is moto's S3 server on 127.0.0.1; PostgreSQL and Redis are the suite's. The web host is
the live server with one worker; the second host is a worker process with its own, empty var,
media and temp directories. Between them they share only the database, the broker and the bucket.
"""

from __future__ import annotations

import io
import os
import re
import signal
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from moto.server import ThreadedMotoServer
from PIL import Image

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import FAST_RECOVERY, TEST_API_KEY, Visitor, wait_all_final, wait_for
from webapp.settings import s3_media_storage

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "inpaint-test", "AWS_SECRET_ACCESS_KEY": "inpaint-test-secret"}
STEP_DONE = re.compile(rb"Task inpaint\.tasks\.job_(?:submit|poll)_task\[([0-9a-f-]+)\] succeeded")
STEP_RECEIVED = re.compile(rb"Task inpaint\.tasks\.job_(?:submit|poll)_task\[([0-9a-f-]+)\] received")


class Bucket:
    """A private bucket on moto's S3 server, and the environment a host needs to use it."""

    def __init__(self, endpoint_url: str):
        self.endpoint_url = endpoint_url
        self.name = f"inpaint-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION,
                                   aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        self.client.create_bucket(Bucket=self.name)

    def host_env(self, *, reachable: bool) -> dict[str, str]:
        return {"INPAINT_S3_BUCKET": self.name, "INPAINT_S3_ENDPOINT_URL": self.endpoint_url,
                "INPAINT_S3_REGION": REGION, "INPAINT_S3_REACHABLE_FROM_OUTSIDE": str(reachable).lower(),
                **CREDENTIALS}

    def content(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return [item["Key"] for item in listed]


@pytest.fixture
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch) -> Bucket:
    """The app in this process (the web host) keeps its media in a new bucket people can reach."""
    bucket = Bucket(s3_server)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES,
                         "default": s3_media_storage(bucket.name, endpoint_url=s3_server, region=REGION)}
    settings.INPAINT_S3_BUCKET = bucket.name
    settings.INPAINT_S3_REACHABLE_FROM_OUTSIDE = True
    return bucket


def offline_job_create(client: Client) -> InpaintJob:
    response = client.post("/jobs/", {
        "engine": "offline", "prompt": "", "style": "<auto>", "size": "original", "n": "1", "mask_color": "",
        "base_image": SimpleUploadedFile("photo.png", pictures.picture(fmt="PNG"), "image/png"),
        "mask_image": SimpleUploadedFile("mask.png", pictures.mask(), "image/png")}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return InpaintJob.objects.get()


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def steps_done(worker) -> set[bytes]:
    return set(STEP_DONE.findall(worker.log_path.read_bytes()))


def step_in_hand(worker) -> bool:
    """Whether the worker has taken a step it has not finished."""
    log = worker.log_path.read_bytes()
    return bool(set(STEP_RECEIVED.findall(log)) - set(STEP_DONE.findall(log)))


def owner_download(visitors: list[Visitor], path: str) -> requests.Response:
    """The file through the web process's checked view: only the job's owner is sent on to the bucket."""
    answers = [visitor.session.get(visitor.url + path, allow_redirects=False, timeout=10) for visitor in visitors]
    assert sorted(answer.status_code for answer in answers) == [302] + [404] * (len(visitors) - 1), path
    [redirect] = [answer for answer in answers if answer.status_code == 302]
    return requests.get(redirect.headers["Location"], timeout=10)


def test_two_worker_hosts_with_no_shared_disk_finish_a_burst_and_survive_a_killed_host(
        live_server, dashscope, standin_settings, start_worker, bucket, settings, tmp_path):
    dashscope.running_seconds = 0.5
    common = {**bucket.host_env(reachable=True), **FAST_RECOVERY,
              "DASHSCOPE_BASE_URL": dashscope.base_url, "DASHSCOPE_API_KEY": TEST_API_KEY}
    web_temp = tmp_path / "web-host-tmp"
    web_temp.mkdir()
    web_host_worker = start_worker(beat=True, TMPDIR=str(web_temp), **common)
    second_host = {name: tmp_path / "second-host" / name for name in ("var", "media", "tmp")}
    second_host["tmp"].mkdir(parents=True)
    second_worker = start_worker(INPAINT_VAR_DIR=str(second_host["var"]), INPAINT_MEDIA_ROOT=str(second_host["media"]),
                                 TMPDIR=str(second_host["tmp"]), **common)

    visitors = [Visitor(live_server) for _ in range(5)]
    for index in range(10):
        visitors[index % 5].post_job(f"burst job {index}", engine="offline" if index % 3 == 0 else "wanx-x-painting")

    # The second host is killed while it holds a step, after it has finished some.
    wait_for(lambda: len(steps_done(second_worker)) >= 3 and step_in_hand(second_worker), timeout=60, interval=0.02,
             message="the second host to finish a step and hold another")
    assert InpaintJob.objects.exclude(status__in=InpaintJob.FINAL_STATUSES).exists()
    done_before_kill = steps_done(second_worker)
    second_worker.kill(signal.SIGKILL)

    jobs = wait_all_final(10, timeout=90)
    assert all(job.status == InpaintJob.Status.SUCCEEDED for job in jobs), [(j.status, j.error_code) for j in jobs]
    cloud = [job for job in jobs if job.engine != "offline"]
    assert len({job.remote_task_id for job in cloud}) == len(cloud) == dashscope.creates_accepted
    assert done_before_kill and steps_done(web_host_worker), "each host did some of the steps"
    # DashScope fetched the pictures straight from the bucket, through presigned URLs.
    for task in dashscope.tasks.values():
        assert task.input["base_image_url"].startswith(f"{bucket.endpoint_url}/{bucket.name}/jobs/")
        assert "X-Amz-Signature=" in task.input["base_image_url"]

    for job in jobs:
        result = owner_download(visitors, f"/jobs/{job.pk}/results/0/?download")
        assert result.status_code == 200
        assert result.headers["Content-Disposition"] == f'attachment; filename="inpaint-{str(job.pk)[:8]}-result-1.png"'
        assert Image.open(io.BytesIO(result.content)).size == (640, 480)
    # A copy made on request is stored beside the others and fetched the same way.
    jpeg = owner_download(visitors, f"/jobs/{jobs[0].pk}/results/0/?format=jpeg&download")
    assert Image.open(io.BytesIO(jpeg.content)).format == "JPEG"
    # The bucket is private: an object's plain URL is refused.
    key = f"jobs/{jobs[0].pk}/mask.png"
    assert key in bucket.keys()
    assert requests.get(f"{bucket.endpoint_url}/{bucket.name}/{key}", timeout=10).status_code == 403

    # Nothing on either host's disk: no media, no leftover temporary file, nothing in the second var dir.
    for folder in (settings.MEDIA_ROOT, second_host["media"], second_host["var"], second_host["tmp"], web_temp):
        assert files_under(folder) == [], folder


def test_a_bucket_people_cannot_reach_is_streamed_by_the_web_process(bucket, settings, sent_steps, client: Client):
    settings.INPAINT_S3_REACHABLE_FROM_OUTSIDE = False
    settings.INPAINT_PUBLIC_BASE_URL = ""
    job = offline_job_create(client)
    assert {f"jobs/{job.pk}/base.png", f"jobs/{job.pk}/mask.png"} <= set(bucket.keys())

    picture = client.get(f"/jobs/{job.pk}/picture/")
    assert picture.status_code == 200
    assert b"".join(picture.streaming_content) == bucket.content(f"jobs/{job.pk}/base.png")
    assert not os.path.exists(settings.MEDIA_ROOT)


def test_a_reachable_bucket_sends_the_owner_s_download_to_a_short_lived_presigned_url(
        bucket, sent_steps, client: Client):
    job = offline_job_create(client)

    response = client.get(f"/jobs/{job.pk}/mask/?download")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{bucket.endpoint_url}/{bucket.name}/jobs/{job.pk}/mask.png?")
    assert "X-Amz-Expires=300" in location
    fetched = requests.get(location, timeout=10)
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.headers["Content-Disposition"] == f'attachment; filename="inpaint-{str(job.pk)[:8]}-mask.png"'
    assert fetched.content == bucket.content(f"jobs/{job.pk}/mask.png")
    # What the page shows stays on the app's origin.
    shown = client.get(f"/jobs/{job.pk}/mask/")
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == fetched.content
    assert Client().get(f"/jobs/{job.pk}/mask/?download").status_code == 404, "only the owner is sent on"
