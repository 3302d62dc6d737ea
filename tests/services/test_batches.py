"""inpaint.services.batches: held jobs released a window at a time, never past the person's jobs in progress, again
when one ends (through the worker's tasks) and at the sweep; a held job is no one's turn and is never submitted."""

from __future__ import annotations

import pytest

from inpaint import tasks
from inpaint.models import InpaintJob
from inpaint.services import batches, selectors, submission
from inpaint.services.batches import Owner
from inpaint.services.states import Status
from tests.services.fakes import CLOUD, job_request

pytestmark = pytest.mark.django_db

OWNER = Owner(user=None, visitor_id="visitor-b")


def batch_of(count: int):
    """A batch started with its first photo, and ``count`` - 1 more of the same request stored held."""
    batch, steps = batches.batch_create(job_request(), owner=OWNER, photo_count=count, other_shapes="skip",
                                        source_name="0.jpg")
    for index in range(1, count):
        batches.job_create(job_request(), user=None, visitor_id=OWNER.visitor_id, batch=batch,
                           source_name=f"{index}.jpg")
    return batch, steps


def held(batch) -> int:
    return InpaintJob.objects.filter(batch=batch, held=True).count()


def test_a_new_batch_releases_its_first_job_with_its_first_step():
    batch, steps = batch_of(1)
    job = InpaintJob.objects.get(batch=batch)
    assert [(step.action, step.job_id, step.token) for step in steps] == [("submit", str(job.pk), job.step_token)]
    assert not job.held and job.step_due_at is not None


def test_held_jobs_take_no_turn_and_are_never_submitted(cloud):
    batch, _ = batch_of(4)
    assert batches.batch_release(batch)  # the second job
    waiting = selectors.waiting_in_turn(CLOUD)
    still_held = InpaintJob.objects.filter(batch=batch, held=True)
    assert still_held.count() == 2 and not set(still_held.values_list("pk", flat=True)) & set(waiting)
    job = still_held.first()
    assert submission.job_submit(job, job.step_token) == [] and cloud.submitted == []
    assert job.step_due_at is None  # the sweep does not pick it up either


def test_the_window_and_the_persons_jobs_in_progress_bound_a_release(settings):
    batch, _ = batch_of(5)
    batches.batch_release(batch)
    assert held(batch) == 5 - batches.BATCH_WINDOW
    assert batches.batch_release(batch) == []  # twice: nothing more
    settings.INPAINT_MAX_ACTIVE_JOBS = 1
    other, _ = batches.batch_create(job_request(), owner=OWNER, photo_count=1, other_shapes="skip", source_name="")
    assert held(other) == 1  # the person already has two jobs in progress


def test_a_job_that_ends_in_a_task_releases_the_next(sent_steps, django_capture_on_commit_callbacks):
    batch, _ = batch_of(3)
    batches.batch_release(batch)
    first = InpaintJob.objects.filter(batch=batch, held=False).first()
    InpaintJob.objects.filter(pk=first.pk).update(status=Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.job_poll_task(str(first.pk), first.step_token)  # a late step of an ended job: a no-op, then the release
    released = InpaintJob.objects.get(batch=batch, source_name="2.jpg")
    assert held(batch) == 0 and sent_steps == [("submit", str(released.pk), released.step_token, 0.0)]


def test_the_sweep_releases_what_a_release_missed(sent_steps, django_capture_on_commit_callbacks):
    batch, _ = batch_of(3)
    batches.batch_release(batch)
    InpaintJob.objects.filter(batch=batch, held=False).update(status=Status.CANCELED)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.jobs_sweep_task()
    released = InpaintJob.objects.get(batch=batch, source_name="2.jpg")
    assert held(batch) == 0 and sent_steps == [("submit", str(released.pk), released.step_token, 0.0)]
