"""Recovery: reconciling a submission in doubt, the sweep, and leases on slow steps."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.utils import timezone

from inpaint.engines.base import ListedTask
from inpaint.services import recovery, submission
from inpaint.services.scheduling import Step
from tests.services.fakes import Status, claimed_job, make_job, reload, submitted_job

pytestmark = pytest.mark.django_db


def listed_task(task_id: str, created: datetime.datetime | None = None) -> ListedTask:
    created = created or timezone.now() - datetime.timedelta(seconds=1)
    return ListedTask(task_id=task_id, request_id=f"req-{task_id}", created_ms=int(created.timestamp() * 1000))


def test_job_reconcile_with_no_task_sends_again(cloud):
    job = claimed_job()
    steps = recovery.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.submit_claimed_at is None
    assert job.status == Status.QUEUED
    assert [step.action for step in steps] == ["submit"]
    assert cloud.submitted == []


def test_job_reconcile_ignores_tasks_outside_the_window(cloud):
    cloud.tasks = [listed_task("old-task", timezone.now() - datetime.timedelta(hours=1))]
    job = claimed_job()
    steps = recovery.job_reconcile(job, job.step_token)
    assert [step.action for step in steps] == ["submit"]
    assert reload(job).remote_task_id == ""


def test_job_reconcile_adopts_the_one_unowned_task(cloud):
    cloud.tasks = [listed_task("orphan-1")]
    job = claimed_job()
    steps = recovery.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.status == Status.SUBMITTED
    assert (job.remote_task_id, job.remote_request_id) == ("orphan-1", "req-orphan-1")
    assert [step.action for step in steps] == ["poll"]
    assert cloud.submitted == []


def test_job_reconcile_skips_tasks_other_jobs_own(cloud):
    owner = submitted_job(remote_task_id="owned-1")
    cloud.tasks = [listed_task("owned-1")]
    job = claimed_job()
    recovery.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.remote_task_id == ""
    assert reload(owner).remote_task_id == "owned-1"


def test_job_reconcile_two_unowned_tasks_fails_the_job(cloud):
    cloud.tasks = [listed_task("orphan-1"), listed_task("orphan-2")]
    job = claimed_job()
    recovery.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_code == "SubmissionUnknown"
    assert job.error_message == recovery.SUBMISSION_UNKNOWN_MESSAGE
    assert cloud.submitted == []


def test_job_reconcile_with_a_stale_token_does_nothing(cloud):
    cloud.tasks = [listed_task("orphan-1")]
    job = claimed_job()
    assert recovery.job_reconcile(job, "old-token") == []
    assert cloud.listed == []



def overdue() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=120)


@pytest.mark.parametrize(("fields", "action"), [
    ({"status": Status.SUBMITTED, "remote_task_id": "task-9"}, "poll"),
    ({"submit_claimed_at": timezone.now()}, "reconcile"),
    ({}, "submit"),
])
def test_jobs_sweep_reschedules_an_overdue_job(fields, action):
    job = make_job(step_due_at=overdue(), **fields)
    steps = recovery.jobs_sweep()
    fresh = reload(job)
    assert fresh.step_token != job.step_token
    assert steps == [Step(action, str(job.pk), fresh.step_token, 0.0)]


def test_jobs_sweep_leaves_a_job_that_is_not_overdue():
    job = make_job(step_due_at=timezone.now() - datetime.timedelta(seconds=30))
    assert recovery.jobs_sweep() == []
    assert reload(job).step_token == job.step_token


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.FAILED, Status.CANCELED])
def test_jobs_sweep_ignores_final_jobs(status):
    make_job(status=status, step_due_at=overdue())
    assert recovery.jobs_sweep() == []


def test_jobs_sweep_makes_the_lost_step_a_no_op(cloud):
    job = make_job(step_due_at=overdue())
    old_token = job.step_token
    recovery.jobs_sweep()
    assert submission.job_submit(reload(job), old_token) == []
    assert cloud.submitted == []



@pytest.mark.django_db(transaction=True)  # the lease is renewed from another thread, on its own connection
def test_a_paid_call_longer_than_the_lease_is_not_taken_for_lost(cloud, settings):
    settings.INPAINT_STEP_LEASE = 0.6
    settings.INPAINT_SWEEP_GRACE = 0.0
    job = make_job()
    sweeps_during_the_call = []

    def slow_network():
        time.sleep(1.8)  # three leases long
        sweeps_during_the_call.append(recovery.jobs_sweep())

    cloud.while_submitting = slow_network
    steps = submission.job_submit(job, job.step_token)

    assert sweeps_during_the_call == [[]]
    assert [step.action for step in steps] == ["poll"]
    assert len(cloud.submitted) == 1


@pytest.mark.django_db(transaction=True)
def test_the_lease_stops_with_its_step(cloud, settings):
    settings.INPAINT_STEP_LEASE = 0.3
    job = make_job()
    cloud.while_submitting = lambda: time.sleep(0.5)
    submission.job_submit(job, job.step_token)
    due_after_the_step = reload(job).step_due_at

    time.sleep(0.5)  # longer than one renewal period
    assert reload(job).step_due_at == due_after_the_step
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("lease-")]


