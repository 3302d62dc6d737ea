"""Unit tests for inpaint.tasks: each task loads the job, calls one service step and schedules what it returns."""

from __future__ import annotations

import uuid

import pytest

from inpaint import services, tasks
from inpaint.models import InpaintJob
from inpaint.services import Step

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> InpaintJob:
    return InpaintJob.objects.create(engine="wanx-x-painting", prompt="a boat", base_image="jobs/x/base.jpg",
                                     mask_image="jobs/x/mask.png", step_token="token-1")


@pytest.fixture
def scheduled(monkeypatch) -> list[tuple]:
    """Every apply_async call on a step task, as (task name, args, countdown)."""
    calls: list[tuple] = []
    for name, task in tasks.STEP_TASKS.items():
        monkeypatch.setattr(task, "apply_async",
                            lambda args, countdown=0, name=name, **kw: calls.append((name, tuple(args), countdown)))
    return calls


@pytest.fixture
def service_calls(monkeypatch):
    """Replace the service steps: each records (step name, job id, token) and returns the steps given to it."""
    calls: list[tuple] = []
    answers: dict[str, list[Step]] = {"job_submit": [], "job_poll": [], "job_reconcile": [], "jobs_sweep": []}

    def fake(name):
        def step(job=None, token=None):
            calls.append((name, None if job is None else job.pk, token))
            return answers[name]
        return step

    for name in answers:
        monkeypatch.setattr(services, name, fake(name))
    return calls, answers


@pytest.mark.parametrize(("task", "service"), [
    (tasks.job_submit_task, "job_submit"),
    (tasks.job_poll_task, "job_poll"),
    (tasks.job_reconcile_task, "job_reconcile"),
])
def test_step_task_calls_its_service_with_the_job_and_token(task, service, job, service_calls, scheduled):
    calls, _ = service_calls
    task(str(job.pk), "token-1")
    assert calls == [(service, job.pk, "token-1")]


@pytest.mark.parametrize(("task", "service"), [
    (tasks.job_submit_task, "job_submit"),
    (tasks.job_poll_task, "job_poll"),
    (tasks.job_reconcile_task, "job_reconcile"),
])
def test_step_task_dispatches_the_returned_steps(task, service, job, service_calls, scheduled,
                                                 django_capture_on_commit_callbacks):
    _, answers = service_calls
    answers[service] = [Step("poll", str(job.pk), "token-2", 1.5), Step("reconcile", str(job.pk), "token-3", 5.0),
                        Step("submit", str(job.pk), "token-4", 0.0)]
    with django_capture_on_commit_callbacks(execute=True):
        task(str(job.pk), "token-1")
    assert scheduled == [("poll", (str(job.pk), "token-2"), 1.5), ("reconcile", (str(job.pk), "token-3"), 5.0),
                         ("submit", (str(job.pk), "token-4"), 0.0)]


def test_step_task_dispatches_only_after_commit(job, service_calls, scheduled, django_capture_on_commit_callbacks):
    _, answers = service_calls
    answers["job_poll"] = [Step("poll", str(job.pk), "token-2", 1.0)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tasks.job_poll_task(str(job.pk), "token-1")
    assert scheduled == []
    assert len(callbacks) == 1


@pytest.mark.parametrize("task", [tasks.job_submit_task, tasks.job_poll_task, tasks.job_reconcile_task])
def test_step_task_for_a_missing_job_is_a_no_op(task, service_calls, scheduled, django_capture_on_commit_callbacks):
    calls, _ = service_calls
    with django_capture_on_commit_callbacks(execute=True):
        task(str(uuid.uuid4()), "token-1")
    assert calls == []
    assert scheduled == []


def test_jobs_sweep_task_dispatches_the_sweep_steps(job, service_calls, scheduled, django_capture_on_commit_callbacks):
    calls, answers = service_calls
    answers["jobs_sweep"] = [Step("poll", str(job.pk), "token-5", 0.0), Step("submit", "other-id", "token-6", 0.0)]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.jobs_sweep_task()
    assert calls == [("jobs_sweep", None, None)]
    assert scheduled == [("poll", (str(job.pk), "token-5"), 0.0), ("submit", ("other-id", "token-6"), 0.0)]


def test_step_tasks_map_actions_to_tasks():
    assert tasks.STEP_TASKS == {"submit": tasks.job_submit_task, "poll": tasks.job_poll_task,
                                "reconcile": tasks.job_reconcile_task}


@pytest.mark.parametrize("task", [tasks.job_poll_task, tasks.job_reconcile_task])
def test_read_only_tasks_are_acks_late(task):
    assert task.acks_late is True


def test_job_submit_task_is_not_acks_late():
    # A redelivered submit after a crash must not reach the paid endpoint again.
    assert not tasks.job_submit_task.acks_late
