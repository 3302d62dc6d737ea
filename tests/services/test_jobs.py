"""Creating and cancelling jobs."""

from __future__ import annotations

import pytest

from inpaint.engines.dashscope import DashScopeError
from inpaint.services import jobs
from tests.pictures import mask
from inpaint.services.scheduling import Step
from tests.services.fakes import CLOUD, Status, claimed_job, job_request, make_job, reload, submitted_job

pytestmark = pytest.mark.django_db


def test_job_create_stores_files_under_the_job_folder():
    job = make_job()
    assert job.base_image.name == f"jobs/{job.pk}/base.jpg"
    assert job.mask_image.name == f"jobs/{job.pk}/mask.png"
    with job.mask_image.open("rb") as stored:
        assert stored.read() == mask(320, 320)


def test_job_create_starts_queued_with_a_step_token():
    job = reload(make_job())
    assert job.status == Status.QUEUED
    assert job.step_token
    assert job.step_due_at is not None


def test_job_create_returns_its_first_step_and_sends_nothing_itself(sent_steps):
    job, steps = jobs.job_create(job_request(CLOUD), user=None, visitor_id="visitor-a")
    assert sent_steps == []
    assert steps == [Step("submit", str(job.pk), job.step_token, 0.0, None)]


def test_job_cancel_queued_job():
    job = make_job()
    jobs.job_cancel(job)
    job = reload(job)
    assert job.status == Status.CANCELED
    assert job.finished_at is not None


def test_job_cancel_claimed_job_is_refused():
    job = claimed_job()
    with pytest.raises(jobs.JobActionRefused, match="being sent right now"):
        jobs.job_cancel(job)
    assert reload(job).status == Status.QUEUED


def test_job_cancel_submitted_job_cancels_the_remote_task(cloud):
    job = submitted_job()
    waiting = make_job()
    steps = jobs.job_cancel(job)
    assert cloud.canceled == [job.remote_task_id]
    assert reload(job).status == Status.CANCELED
    assert [(step.action, step.job_id) for step in steps] == [("submit", str(waiting.pk))], "its slot goes to the next"


def test_job_cancel_running_job_is_refused(cloud):
    job = submitted_job(status=Status.RUNNING)
    with pytest.raises(jobs.JobActionRefused, match="can no longer be stopped"):
        jobs.job_cancel(job)
    assert cloud.canceled == []
    assert reload(job).status == Status.RUNNING


def test_job_cancel_refused_by_the_service(cloud):
    cloud.cancel_error = DashScopeError(code="UnsupportedOperation", message="task is running", http_status=400)
    job = submitted_job()
    with pytest.raises(jobs.JobActionRefused, match="can no longer be stopped"):
        jobs.job_cancel(job)
    assert reload(job).status == Status.SUBMITTED


def test_job_cancel_final_job_is_refused():
    job = make_job(status=Status.SUCCEEDED)
    with pytest.raises(jobs.JobActionRefused, match="already ended"):
        jobs.job_cancel(job)




@pytest.mark.parametrize("owner, failing", [(jobs, "usage_limits_check"), (jobs.InpaintJob, "save")])
def test_a_failure_after_the_files_are_stored_leaves_no_file_behind(monkeypatch, media_root, owner, failing):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(owner, failing, fail)
    with pytest.raises(RuntimeError):
        make_job()
    assert not [path for path in media_root.rglob("*") if path.is_file()]
    assert not jobs.InpaintJob.objects.exists()
