"""Helpers the test modules share (tests may import this; never a test module or a conftest): the suite's key,
waiting for a condition, people posting to the real web server and real workers on the DashScope stand-in, and
posting to the views through Django's test client.

Importable before Django is set up, as the bench scripts and tests/supervised.py import it: what needs the
app's models imports them when called."""

from __future__ import annotations

import itertools
import os
import time
from typing import TYPE_CHECKING

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from tests import pictures

if TYPE_CHECKING:
    from inpaint.models import InpaintJob, JobResult

TEST_API_KEY = "sk-test-0123456789"
# For a subprocess that only loads the settings on a fresh var directory, where no start-up step made a key.
TEST_SECRET_KEY = "test-secret-key-for-settings-subprocesses-0123456789"


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (tests may wait; app code never does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def database_url() -> str:
    """The test database as a DATABASE_URL, for the processes a test starts."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- Real workers on the stand-in, and people posting to the real web server ----------------------

FAST_RECOVERY = {
    "INPAINT_POLL_INTERVAL": "0.1",
    "INPAINT_ADMISSION_RECHECK": "1",
    "INPAINT_SWEEP_INTERVAL": "1",
    "INPAINT_SWEEP_GRACE": "3",
    "INPAINT_STEP_LEASE": "2",
}


def cloud_worker(start_worker, dashscope, live_server, *, beat=True, **env):
    return start_worker(beat=beat, **{"DASHSCOPE_BASE_URL": dashscope.base_url, "DASHSCOPE_API_KEY": TEST_API_KEY,
                                       "INPAINT_PUBLIC_BASE_URL": live_server.url, **FAST_RECOVERY, **env})


class Visitor:
    """One person's browser session posting jobs through the real web server (the tests' server trusts
    X-Forwarded-For; each visitor has an address of its own unless one is given, as in a room)."""

    addresses = itertools.count(1)

    def __init__(self, live_server, address: str = ""):
        self.url = live_server.url
        self.session = requests.Session()
        self.session.headers["X-Forwarded-For"] = address or f"198.18.0.{next(self.addresses)}"
        self.session.get(self.url + "/", timeout=10)

    def post_job(self, prompt: str, n: int = 1, engine: str = "wanx-x-painting", *,
                 base: tuple[str, bytes, str] | None = None, mask_png: bytes | None = None, **fields: str) -> None:
        """Post the job form; ``fields`` are further form fields (e.g. function="expand", left_scale="1.5")."""
        response = self.session.post(
            self.url + "/jobs/",
            headers={"HX-Request": "true", "X-CSRFToken": self.session.cookies["csrftoken"], "Referer": self.url + "/"},
            data={"engine": engine, "prompt": prompt, "style": "<auto>", "size": "original", "n": str(n), **fields},
            files={"base_image": base or ("p.jpg", pictures.picture(), "image/jpeg"),
                   "mask_image": ("m.png", mask_png or pictures.mask(), "image/png")},
            timeout=120,
        )
        assert response.status_code == 200 and 'data-testid="job-card"' in response.text, response.text[:500]


def wait_succeeded(job: InpaintJob, timeout: float = 120) -> InpaintJob:
    """The job, read again once it has ended, checked to have succeeded."""
    from inpaint.models import InpaintJob

    wait_for(lambda: InpaintJob.objects.get(pk=job.pk).is_final, timeout=timeout, message="the job to end")
    job.refresh_from_db()
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    return job


def wait_all_final(count: int, timeout: float = 120) -> list[InpaintJob]:
    from inpaint.models import InpaintJob

    def all_final():
        jobs = list(InpaintJob.objects.all())
        return len(jobs) == count and all(job.is_final for job in jobs) and jobs

    return wait_for(all_final, timeout=timeout, interval=0.5,
                    message=f"{count} jobs to end: " + ", ".join(InpaintJob.objects.values_list("status", flat=True)))


def assert_each_paid_once(jobs, dashscope) -> None:
    from inpaint.models import InpaintJob

    for job in jobs:
        assert job.status == InpaintJob.Status.SUCCEEDED, (job.status, job.error_code, job.error_message)
        assert "Throttling" not in job.error_code
    task_ids = [job.remote_task_id for job in jobs]
    assert len(set(task_ids)) == len(jobs)
    assert dashscope.creates_accepted == len(jobs), "a job was submitted twice"


def connected_to(pid: int, port: int) -> bool:
    """Whether the process has an open TCP connection to this port on the machine (the stand-in)."""
    fds = [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
    inodes = {target[8:-1] for target in (os.readlink(fd) for fd in fds if os.path.islink(fd))
              if target.startswith("socket:")}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


# --- The views through Django's test client -------------------------------------------------------

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def quiet_settings(settings, sent_steps):
    """No key, no public address, no cap; and nothing reaches a broker from a view test. Autouse in each module
    that imports it (the view tests' settings)."""
    settings.DASHSCOPE_API_KEY = ""
    settings.INPAINT_PUBLIC_BASE_URL = ""
    settings.INPAINT_MONTHLY_IMAGE_CAP = 0
    return settings


def form_data(*, engine="offline", prompt="", base: bytes | None = None, mask_png: bytes | None = None,
              mask_color="", **extra) -> dict:
    return {
        "engine": engine, "prompt": prompt, "style": "<auto>", "size": "original", "n": "1", "mask_color": mask_color,
        "base_image": SimpleUploadedFile("photo.jpg", pictures.picture() if base is None else base, "image/jpeg"),
        "mask_image": SimpleUploadedFile("mask.png", pictures.mask() if mask_png is None else mask_png, "image/png"),
        **extra,
    }


def create_job(client: Client, **data) -> InpaintJob:
    from inpaint.models import InpaintJob
    from inpaint.services.owners import VISITOR_SESSION_KEY

    response = client.post("/jobs/", form_data(**data), headers=HTMX)
    assert response.status_code == 200
    return InpaintJob.objects.get(visitor_id=client.session[VISITOR_SESSION_KEY])


def post_preview(client, data: bytes, name: str = "photo.jpg"):
    """A picture posted to the editor's picture proxy (views.picture_preview)."""
    return client.post(reverse("inpaint:picture-preview"), {"picture": SimpleUploadedFile(name, data)})


def set_status(job: InpaintJob, status: str) -> None:
    from inpaint.models import InpaintJob

    InpaintJob.objects.filter(pk=job.pk).update(status=status)


def add_result(job: InpaintJob, content: bytes = b"\x89PNG result") -> JobResult:
    from inpaint.models import JobResult

    result = JobResult(job=job, slot=0)
    result.image.save("result.png", ContentFile(content), save=True)
    return result


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_refused(response, message: str) -> None:
    from inpaint.models import InpaintJob

    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert InpaintJob.objects.count() == 0


def person_key(username: str) -> str:
    """A new person's personal API key for the gateway, as createapikey prints it."""
    from django.contrib.auth import get_user_model

    from inpaint.api import keys

    return keys.api_key_create(get_user_model().objects.create_user(username))[1]


def downloaded_size(url: str) -> tuple[int, int]:
    """The size of the picture a result link gives, fetched with no key and no session."""
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return pictures.open_image(response.content).size
