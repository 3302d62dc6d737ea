"""Unit tests for inpaint.tasks: each task loads the job, calls one service step and schedules what it returns."""

from __future__ import annotations

import uuid

import pytest
from celery import current_app
from django.conf import settings

from inpaint import tasks
from inpaint.models import InpaintJob
from inpaint.services import polling, recovery, results, submission
from inpaint.services.scheduling import STEP_TASK_NAMES, Step, step_send

pytestmark = pytest.mark.django_db

SERVICES = {"job_submit": submission, "job_poll": polling, "job_reconcile": recovery, "job_answer_store": results,
            "jobs_sweep": recovery}


@pytest.fixture
def job() -> InpaintJob:
    return InpaintJob.objects.create(engine="wanx-x-painting", prompt="a boat", base_image="jobs/x/base.jpg",
                                     mask_image="jobs/x/mask.png", step_token="token-1")


@pytest.fixture
def service_calls(monkeypatch):
    """Replace the service steps: each records (step name, job id, token) and returns the steps given to it."""
    calls: list[tuple] = []
    answers: dict[str, list[Step]] = {name: [] for name in SERVICES}

    def fake(name):
        def step(job=None, token=None):
            calls.append((name, None if job is None else job.pk, token))
            return answers[name]
        return step

    for name, module in SERVICES.items():
        monkeypatch.setattr(module, name, fake(name))
    return calls, answers


@pytest.mark.parametrize(("task", "service"), [
    (tasks.job_submit_task, "job_submit"),
    (tasks.job_poll_task, "job_poll"),
    (tasks.job_reconcile_task, "job_reconcile"),
    (tasks.job_store_task, "job_answer_store"),
])
def test_step_task_calls_its_service_with_the_job_and_token(task, service, job, service_calls, sent_steps):
    calls, _ = service_calls
    task(str(job.pk), "token-1")
    assert calls == [(service, job.pk, "token-1")]


@pytest.mark.parametrize(("task", "service"), [
    (tasks.job_submit_task, "job_submit"),
    (tasks.job_poll_task, "job_poll"),
    (tasks.job_reconcile_task, "job_reconcile"),
    (tasks.job_store_task, "job_answer_store"),
])
def test_step_task_dispatches_the_returned_steps(task, service, job, service_calls, sent_steps,
                                                 django_capture_on_commit_callbacks):
    _, answers = service_calls
    answers[service] = [Step("poll", str(job.pk), "token-2", 1.5), Step("reconcile", str(job.pk), "token-3", 5.0),
                        Step("submit", str(job.pk), "token-4", 0.0)]
    with django_capture_on_commit_callbacks(execute=True):
        task(str(job.pk), "token-1")
    assert sent_steps == [("poll", str(job.pk), "token-2", 1.5), ("reconcile", str(job.pk), "token-3", 5.0),
                          ("submit", str(job.pk), "token-4", 0.0)]


def test_step_task_dispatches_only_after_commit(job, service_calls, sent_steps, django_capture_on_commit_callbacks):
    _, answers = service_calls
    answers["job_poll"] = [Step("poll", str(job.pk), "token-2", 1.0)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tasks.job_poll_task(str(job.pk), "token-1")
    assert sent_steps == []
    assert len(callbacks) == 1


@pytest.mark.parametrize("task", [tasks.job_submit_task, tasks.job_poll_task, tasks.job_reconcile_task,
                                  tasks.job_store_task])
def test_step_task_for_a_missing_job_is_a_no_op(task, service_calls, sent_steps, django_capture_on_commit_callbacks):
    calls, _ = service_calls
    with django_capture_on_commit_callbacks(execute=True):
        task(str(uuid.uuid4()), "token-1")
    assert calls == []
    assert sent_steps == []


def test_jobs_sweep_task_dispatches_the_sweep_steps(job, service_calls, sent_steps, django_capture_on_commit_callbacks):
    calls, answers = service_calls
    answers["jobs_sweep"] = [Step("poll", str(job.pk), "token-5", 0.0), Step("submit", "other-id", "token-6", 0.0)]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.jobs_sweep_task()
    assert calls == [("jobs_sweep", None, None)]
    assert sent_steps == [("poll", str(job.pk), "token-5", 0.0), ("submit", "other-id", "token-6", 0.0)]


def test_every_step_name_is_a_registered_task():
    assert {name: current_app.tasks[name] for name in STEP_TASK_NAMES.values()} == {
        "inpaint.tasks.job_submit_task": tasks.job_submit_task, "inpaint.tasks.job_poll_task": tasks.job_poll_task,
        "inpaint.tasks.job_reconcile_task": tasks.job_reconcile_task, "inpaint.tasks.job_store_task": tasks.job_store_task}


def test_a_step_is_sent_by_name_to_its_queue(monkeypatch):
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **options: sent.append((name, options)))
    step_send(Step("submit", "job-1", "token-1", 2.0, "fills"))
    step_send(Step("poll", "job-1", "token-2", 0.5))
    assert sent == [("inpaint.tasks.job_submit_task", {"args": ("job-1", "token-1"), "countdown": 2.0, "queue": "fills"}),
                    ("inpaint.tasks.job_poll_task", {"args": ("job-1", "token-2"), "countdown": 0.5})]


def test_every_task_is_handed_back_when_its_worker_dies():
    # A redelivered step is harmless (its token decides), so a killed worker costs seconds, not a sweep.
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
