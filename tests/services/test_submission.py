"""The submit step: one paid submission, transient and permanent errors."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inpaint.engines.dashscope import DashScopeError
from inpaint.models import EngineGate, InpaintJob
from inpaint.services import recovery, submission
from inpaint.services.scheduling import Step
from tests.services.fakes import CLOUD, Status, make_job, reload

pytestmark = pytest.mark.django_db


def test_job_submit_success_records_the_remote_task(cloud):
    job = make_job()
    steps = submission.job_submit(job, job.step_token)
    job = reload(job)
    assert job.status == Status.SUBMITTED
    assert (job.remote_task_id, job.remote_request_id) == ("task-1", "req-1")
    assert job.submitted_at is not None
    assert steps == [Step("poll", str(job.pk), job.step_token, 1.0)]


def test_job_submit_times_the_first_poll_for_the_expected_end(cloud):
    now = timezone.now()
    make_job(status=Status.SUCCEEDED, finished_at=now, remote_submit_time=now - datetime.timedelta(seconds=0.8),
             remote_end_time=now, submitted_at=now)
    job = make_job()
    # Woken 20 ms ago: the poll is sent that much ahead of the task's usual 0.8 s.
    InpaintJob.objects.filter(pk=job.pk).update(step_due_at=timezone.now() - datetime.timedelta(seconds=0.02))
    job = reload(job)
    [step] = submission.job_submit(job, job.step_token)
    assert step.action == "poll" and 0.7 < step.countdown <= 0.78, step.countdown


def test_job_submit_twice_with_the_same_token_submits_once(cloud):
    job = make_job()
    token = job.step_token
    submission.job_submit(job, token)
    second = submission.job_submit(reload(job), token)
    assert second == []
    assert len(cloud.submitted) == 1


def test_job_submit_from_a_stale_copy_submits_once(cloud, settings):
    settings.INPAINT_RUNNING_LIMITS = {CLOUD: "5"}
    job = make_job()
    stale_copy = reload(job)
    submission.job_submit(job, job.step_token)
    assert submission.job_submit(stale_copy, stale_copy.step_token) == []
    assert len(cloud.submitted) == 1
    assert reload(job).submit_attempts == 1


def test_job_submit_with_a_stale_token_does_nothing(cloud):
    job = make_job()
    assert submission.job_submit(job, "not-the-token") == []
    job = reload(job)
    assert cloud.submitted == []
    assert job.status == Status.QUEUED
    assert job.submit_claimed_at is None


def test_job_submit_transient_error_releases_the_claim_and_retries(cloud):
    cloud.submit_answer = DashScopeError(code="SystemError", message="busy", http_status=503, transient=True)
    job = make_job()
    steps = submission.job_submit(job, job.step_token)
    job = reload(job)
    assert job.status == Status.QUEUED
    assert job.submit_claimed_at is None
    assert job.waiting_reason
    assert [step.action for step in steps] == ["submit"]
    assert steps[0].countdown > 0
    assert steps[0].token == job.step_token


def test_a_create_call_failing_past_the_submit_deadline_gives_up_in_plain_words(cloud, settings):
    settings.INPAINT_SUBMIT_DEADLINE = 4
    cloud.submit_answer = DashScopeError(code="SystemError", message="busy", http_status=503, transient=True)
    job = make_job(created_at=timezone.now() - datetime.timedelta(seconds=5))
    assert submission.job_submit(job, job.step_token) == []
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == ("The painting service could not take this job for 4 seconds, so it was given up. "
                                 "Nothing was billed. Try again later.")


def test_job_submit_throttled_pauses_the_engine_gate(cloud):
    cloud.submit_answer = DashScopeError(code="Throttling", message="Requests throttled", http_status=429,
                                         transient=True)
    job = make_job()
    steps = submission.job_submit(job, job.step_token)
    gate = EngineGate.objects.get(engine=CLOUD)
    assert gate.paused_until > timezone.now()
    assert reload(job).waiting_reason == submission.THROTTLED_REASON
    assert steps[0].action == "submit"


def test_job_submit_while_throttled_waits_without_calling_the_engine(cloud):
    cloud.submit_answer = DashScopeError(code="Throttling", message="Requests throttled", http_status=429,
                                         transient=True)
    first = make_job()
    submission.job_submit(first, first.step_token)
    other = make_job()
    steps = submission.job_submit(other, other.step_token)
    assert len(cloud.submitted) == 1
    assert [step.action for step in steps] == ["submit"]
    assert steps[0].countdown > 0
    assert reload(other).submit_claimed_at is None


def test_job_submit_permanent_error_fails_the_job(cloud):
    cloud.submit_answer = DashScopeError(code="InvalidApiKey", message="Invalid API-key provided.", http_status=401)
    job = make_job()
    assert submission.job_submit(job, job.step_token) == []
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_code == "InvalidApiKey"
    assert job.error_message == "The server's DashScope key is missing or wrong; ask the administrator."


def test_job_submit_maybe_created_reconciles_and_keeps_the_claim(cloud):
    cloud.submit_answer = DashScopeError(code="ReadTimeout", message="no answer", transient=True, maybe_created=True)
    job = make_job()
    steps = submission.job_submit(job, job.step_token)
    job = reload(job)
    assert [step.action for step in steps] == ["reconcile"]
    assert steps[0].countdown == recovery.RECONCILE_LIST_DELAY
    assert job.submit_claimed_at is not None
    assert job.status == Status.QUEUED


def test_job_submit_of_a_claimed_job_reconciles_instead_of_submitting(cloud):
    job = make_job(submit_claimed_at=timezone.now())
    steps = submission.job_submit(job, job.step_token)
    assert [step.action for step in steps] == ["reconcile"]
    assert cloud.submitted == []


def test_job_submit_without_a_key_fails_before_calling(cloud, settings):
    settings.DASHSCOPE_API_KEY = ""
    job = make_job()
    submission.job_submit(job, job.step_token)
    assert reload(job).status == Status.FAILED
    assert cloud.submitted == []


