"""inpaint.services.holds: a script's tasks past the person's jobs in progress are stored held instead of refused,
up to INPAINT_API_MAX_WAITING_TASKS, and released oldest first when one of the person's jobs ends (through the
worker's tasks) and at the sweep, never past the limit and never twice."""

from __future__ import annotations

import pytest

from inpaint import tasks
from inpaint.models import InpaintJob
from inpaint.services import holds, jobs
from inpaint.services.refusals import JobActionRefused
from inpaint.services.states import Status
from tests.services.fakes import job_request

pytestmark = pytest.mark.django_db

VISITOR = "script-person"


@pytest.fixture(autouse=True)
def one_in_progress(settings):
    settings.INPAINT_MAX_ACTIVE_JOBS, settings.INPAINT_API_MAX_WAITING_TASKS = 1, 2


def task(prompt: str) -> jobs.JobCreated:
    return jobs.job_create(job_request(prompt=prompt), user=None, visitor_id=VISITOR, wait_past_limit=True)


def test_tasks_past_the_limit_wait_with_no_step_up_to_the_bound_and_the_page_is_still_refused():
    first, second, third = task("one"), task("two"), task("three")

    assert (first.job.held, len(first.steps)) == (False, 1)
    assert [(created.job.held, created.steps, created.job.step_due_at) for created in (second, third)] == [
        (True, [], None)] * 2
    assert "jobs in progress" in second.job.waiting_reason  # what its card says
    with pytest.raises(JobActionRefused, match="2 tasks waiting"):
        task("four")
    with pytest.raises(JobActionRefused, match="in progress"):  # the page's own post is not held
        jobs.job_create(job_request(), user=None, visitor_id=VISITOR)
    assert InpaintJob.objects.count() == 3


def test_a_job_that_ends_in_a_task_releases_the_oldest_waiting_one(sent_steps, django_capture_on_commit_callbacks):
    first, second, _ = task("one"), task("two"), task("three")
    InpaintJob.objects.filter(pk=first.job.pk).update(status=Status.FAILED)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.job_poll_task(str(first.job.pk), first.job.step_token)  # a late step of an ended job, then the release

    released = InpaintJob.objects.get(pk=second.job.pk)
    assert not released.held and sent_steps == [("submit", str(released.pk), released.step_token, 0.0)]
    assert released.waiting_reason == ""
    assert InpaintJob.objects.filter(held=True).count() == 1  # the limit holds: one in progress
    assert holds.person_tasks_release(VISITOR) == []  # twice: nothing more


def test_the_sweep_releases_what_a_release_missed(sent_steps, django_capture_on_commit_callbacks):
    first, second = task("one"), task("two")
    InpaintJob.objects.filter(pk=first.job.pk).update(status=Status.CANCELED)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.jobs_sweep_task()

    released = InpaintJob.objects.get(pk=second.job.pk)
    assert not released.held and sent_steps == [("submit", str(released.pk), released.step_token, 0.0)]
