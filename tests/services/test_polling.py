"""The poll step: statuses, the deadline, SUSPENDED, stored results."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.engines.dashscope import DashScopeError
from inpaint.engines.dashscope_messages import ERROR_MESSAGES
from inpaint.models import InpaintJob
from inpaint.services import polling
from inpaint.services.scheduling import Step
from tests.pictures import picture
from tests.services.fakes import Status, make_job, poll_with, reload, sent_ago, submitted_job

pytestmark = pytest.mark.django_db


def test_job_poll_pending_polls_again(cloud):
    job = submitted_job()
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.PENDING))
    assert cloud.polled == [job.remote_task_id]
    assert steps == [Step("poll", str(job.pk), reload(job).step_token, 1.0)]
    assert reload(job).status == Status.SUBMITTED


def test_job_poll_running_marks_the_job_running(cloud):
    job = submitted_job()
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.RUNNING))
    job = reload(job)
    assert job.status == Status.RUNNING
    assert job.started_at is not None
    assert [step.action for step in steps] == ["poll"]


def test_job_poll_with_a_stale_token_does_nothing(cloud):
    job = submitted_job()
    assert list(polling.job_poll(job, "old-token")) == []
    assert cloud.polled == []


def test_job_poll_succeeded_stores_the_results(cloud):
    job = submitted_job(status=Status.RUNNING)
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, image_count=2,
                                            results=[SlotResult(content=picture(64, 64, fmt="PNG")), SlotResult(content=picture(32, 32, fmt="PNG"))]))
    job = reload(job)
    assert job.status == Status.SUCCEEDED
    assert job.image_count == 2
    assert job.finished_at is not None
    assert [r.image.name for r in job.results.all()] == [f"jobs/{job.pk}/result-0.png", f"jobs/{job.pk}/result-1.png"]
    assert steps == []


def test_job_poll_partial_failure_succeeds_with_a_failed_slot(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[
        SlotResult(content=picture(64, 64, fmt="PNG")), SlotResult(code="DataInspectionFailed", message="Output data may contain...")]))
    job = reload(job)
    failed = job.results.get(slot=1)
    assert job.status == Status.SUCCEEDED
    assert failed.image.name == ""
    assert failed.error_code == "DataInspectionFailed"
    assert failed.error_message == ERROR_MESSAGES["DataInspectionFailed"]


def test_job_poll_all_slots_failed_fails_the_job(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[
        SlotResult(code="InternalError.Algo", message="x"), SlotResult(code="InternalError.Algo", message="y")]))
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_code == "InternalError.Algo"
    assert job.error_message == "DashScope had an internal problem with this job. Run it again in a minute."


def test_job_poll_failed_content_check_gives_a_plain_message(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.FAILED, code="DataInspectionFailed",
                                    message="Input data may contain inappropriate content."))
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == ("DashScope's content check refused the picture or the prompt. "
                                 "Change the prompt or use another picture.")


def test_job_poll_canceled_cancels_the_job(cloud):
    job = submitted_job()
    assert poll_with(cloud, job, TaskState(status=TaskStatus.CANCELED)) == []
    job = reload(job)
    assert job.status == Status.CANCELED
    assert job.finished_at is not None


def test_job_poll_unknown_fails_the_job(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.UNKNOWN))
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == ERROR_MESSAGES["UNKNOWN"]


def test_job_poll_transient_error_keeps_polling(cloud):
    job = submitted_job()
    steps = poll_with(cloud, job, DashScopeError(code="ReadTimeout", message="slow", transient=True))
    job = reload(job)
    assert job.status == Status.SUBMITTED
    assert job.waiting_reason == polling.UNANSWERED_REASON
    assert job.poll_errors == 1
    assert [step.action for step in steps] == ["poll"]
    assert steps[0].countdown >= 1.0


def late_job(settings, minutes: float = 2, **fields):
    """A job sent `minutes` ago under a one-minute deadline."""
    settings.INPAINT_JOB_DEADLINE = 60
    return submitted_job(submitted_at=timezone.now() - datetime.timedelta(minutes=minutes), **fields)


def test_a_waiting_task_past_the_deadline_is_asked_once_more_then_cancelled_and_given_up(cloud, settings):
    job = late_job(settings)
    assert poll_with(cloud, job, TaskState(status=TaskStatus.PENDING)) == []
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == ("The painting service did not start this job within 60 seconds, so it was "
                                 "cancelled. Nothing was billed. Try again later; it may be overloaded.")
    assert cloud.polled == [job.remote_task_id]
    assert cloud.canceled == [job.remote_task_id]
    assert job.remote_ended_at is not None, "its running slot is freed"


def test_a_task_that_succeeded_after_the_deadline_keeps_its_images_and_usage(cloud, settings):
    job = late_job(settings, minutes=30)
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, image_count=1,
                                    results=[SlotResult(content=picture(64, 64, fmt="PNG"))]))
    job = reload(job)
    assert job.status == Status.SUCCEEDED
    assert job.image_count == 1
    assert job.results.exclude(image="").count() == 1


def test_a_running_task_past_the_deadline_is_polled_on_slowly_and_said_to_be_late(cloud, settings):
    job = late_job(settings)
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.RUNNING))
    job = reload(job)
    assert job.status == Status.RUNNING
    assert job.waiting_reason == polling.LATE_REASON == ("Taking longer than usual — still painting; "
                                                         "you will not lose it.")
    assert job.remote_ended_at is None, "the task still holds the account's running slot"
    assert steps == [Step("poll", str(job.pk), job.step_token, 30.0)]
    assert cloud.canceled == [], "a running task cannot be cancelled"


def test_a_late_task_that_then_succeeds_keeps_its_images(cloud, settings):
    job = late_job(settings)
    poll_with(cloud, job, TaskState(status=TaskStatus.RUNNING))
    poll_with(cloud, reload(job), TaskState(status=TaskStatus.SUCCEEDED, image_count=1,
                                            results=[SlotResult(content=picture(64, 64, fmt="PNG"))]))
    job = reload(job)
    assert job.status == Status.SUCCEEDED and job.waiting_reason == ""
    assert job.results.exclude(image="").count() == 1


def test_a_waiting_task_whose_cancel_did_not_take_is_polled_on(cloud, settings):
    job = late_job(settings)
    cloud.cancel_error = DashScopeError(code="UnsupportedOperation", message="The operation is unsupported.")
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.PENDING))
    job = reload(job)
    assert cloud.canceled == [job.remote_task_id]
    assert job.status == Status.SUBMITTED
    assert job.waiting_reason == polling.LATE_REASON
    assert [(step.action, step.countdown) for step in steps] == [("poll", 30.0)]


def test_a_task_still_unfinished_when_the_service_stops_keeping_it_is_given_up(cloud, settings):
    job = late_job(settings, minutes=24 * 60 + 1, created_at=timezone.now() - datetime.timedelta(hours=25))
    assert poll_with(cloud, job, TaskState(status=TaskStatus.RUNNING)) == []
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == "The painting service did not finish this job within 24 hours. Try again later."
    assert job.remote_ended_at is not None


def test_queries_failing_past_the_deadline_keep_being_retried(cloud, settings):
    job = late_job(settings)
    steps = poll_with(cloud, job, DashScopeError(code="ReadTimeout", message="slow", transient=True))
    assert [step.action for step in steps] == ["poll"]
    assert reload(job).status == Status.SUBMITTED


def test_a_suspended_task_is_named_and_polled_on(cloud):
    job = submitted_job()
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.SUSPENDED))
    job = reload(job)
    assert job.remote_status == "SUSPENDED" and job.is_suspended
    assert job.status == Status.SUBMITTED
    assert [step.action for step in steps] == ["poll"]
    poll_with(cloud, job, TaskState(status=TaskStatus.RUNNING))
    assert not reload(job).is_suspended


def test_the_next_poll_is_timed_with_how_late_this_one_started(cloud, settings):
    settings.INPAINT_POLL_INTERVAL = 1.0
    now = timezone.now()
    submitted_job(status=Status.SUCCEEDED, finished_at=now, remote_submit_time=now - datetime.timedelta(seconds=3),
                  remote_end_time=now)
    job = sent_ago(submitted_job(), 2.5, step_due_at=timezone.now() - datetime.timedelta(seconds=0.03))
    [step] = poll_with(cloud, job, TaskState(status=TaskStatus.RUNNING))
    assert 0.4 < step.countdown < 0.48, step.countdown


def test_the_next_waiting_job_is_woken_before_the_results_are_stored(cloud):
    running = submitted_job(created_at=timezone.now() - datetime.timedelta(minutes=2))
    waiting = make_job()
    cloud.poll_answer = TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=picture(64, 64, fmt="PNG"))])
    steps = polling.job_poll(running, running.step_token)
    first = next(steps)
    assert (first.action, first.job_id) == ("submit", str(waiting.pk))
    assert not reload(running).results.exists(), "woken before any image is downloaded or stored"
    assert list(steps) == []
    assert reload(running).status == Status.SUCCEEDED

