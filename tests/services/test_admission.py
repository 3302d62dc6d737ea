"""Admission: the account's rate and running limits, first come first served."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inpaint.engines import engine_get
from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.models import InpaintJob
from inpaint.services import admission, selectors, submission
from inpaint.services.scheduling import Step
from inpaint.services.states import Status
from tests.pictures import picture
from tests.services.fakes import CLOUD, make_job, poll_with, reload, submitted_job

pytestmark = pytest.mark.django_db


def test_admission_second_job_waits_while_the_first_holds_the_slot(cloud):
    first = make_job()
    submission.job_submit(first, first.step_token)
    second = make_job()
    steps = submission.job_submit(second, second.step_token)
    assert len(cloud.submitted) == 1
    assert steps == [Step("submit", str(second.pk), reload(second).step_token, 5.0)]
    assert reload(second).submit_claimed_at is None


def test_admission_is_first_come_first_served(cloud):
    older = make_job(created_at=timezone.now() - datetime.timedelta(seconds=30))
    younger = make_job()
    steps = submission.job_submit(younger, younger.step_token)
    assert cloud.submitted == []
    assert [(step.action, step.countdown) for step in steps] == [("submit", 5.0)]
    assert submission.job_submit(older, older.step_token)[0].action == "poll"


def test_admission_rate_limit_delays_a_second_submit_in_the_same_second(cloud, settings):
    settings.INPAINT_SUBMIT_RATES = {CLOUD: "1"}
    settings.INPAINT_RUNNING_LIMITS = {CLOUD: "5"}
    first, second = make_job(), make_job()
    submission.job_submit(first, first.step_token)
    steps = submission.job_submit(second, second.step_token)
    assert len(cloud.submitted) == 1
    assert [step.action for step in steps] == ["submit"]
    # Until the first submission leaves the window (a second, and half a second for the way there), plus 10 ms.
    assert 1 < steps[0].countdown <= admission.SUBMIT_WINDOW.total_seconds() + 0.01


def test_admission_rate_limit_allows_the_configured_rate(cloud, settings):
    settings.INPAINT_SUBMIT_RATES = {CLOUD: "2"}
    settings.INPAINT_RUNNING_LIMITS = {CLOUD: "5"}
    first, second = make_job(), make_job()
    submission.job_submit(first, first.step_token)
    submission.job_submit(second, second.step_token)
    assert len(cloud.submitted) == 2


def scheduled_after_poll(job, cloud, state, django_capture_on_commit_callbacks, sent_steps) -> list[tuple]:
    """Steps job_poll returns plus those it hands to Celery itself, as (action, job id, countdown)."""
    with django_capture_on_commit_callbacks(execute=True):
        steps = poll_with(cloud, job, state)
    return [(step.action, step.job_id, step.countdown) for step in steps] + [
        (action, job_id, countdown) for action, job_id, _token, countdown in sent_steps]


@pytest.mark.parametrize("state", [
    TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=picture(64, 64, fmt="PNG"))]),
    TaskState(status=TaskStatus.FAILED, code="InternalError.Algo", message="boom"),
])
def test_admission_remote_end_wakes_the_oldest_waiting_job(cloud, state, django_capture_on_commit_callbacks,
                                                            sent_steps):
    running = submitted_job(created_at=timezone.now() - datetime.timedelta(minutes=2))
    oldest = make_job(created_at=timezone.now() - datetime.timedelta(minutes=1))
    make_job()
    scheduled = scheduled_after_poll(running, cloud, state, django_capture_on_commit_callbacks, sent_steps)
    assert ("submit", str(oldest.pk), 0.0) in scheduled
    assert reload(running).remote_ended_at is not None


def test_admission_woken_job_is_admitted_at_once(cloud, django_capture_on_commit_callbacks, sent_steps):
    running = submitted_job(created_at=timezone.now() - datetime.timedelta(minutes=2))
    waiting = make_job()
    scheduled_after_poll(running, cloud, TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=picture(64, 64, fmt="PNG"))]),
                         django_capture_on_commit_callbacks, sent_steps)
    waiting = reload(waiting)
    assert submission.job_submit(waiting, waiting.step_token)[0].action == "poll"
    assert len(cloud.submitted) == 1


def test_job_queue_position_counts_waiting_jobs_ahead(cloud):
    now = timezone.now()
    submitted_job(created_at=now - datetime.timedelta(minutes=5))
    make_job(created_at=now - datetime.timedelta(minutes=3))
    make_job(created_at=now - datetime.timedelta(minutes=2))
    mine = make_job(created_at=now - datetime.timedelta(minutes=1))
    make_job()
    assert selectors.job_queue_position(mine) == 2


def test_job_queue_position_is_none_for_a_submitted_job(cloud):
    assert selectors.job_queue_position(submitted_job()) is None




def test_waiting_jobs_take_turns_between_people(cloud):
    def job_of(person: str):
        job = make_job()
        InpaintJob.objects.filter(pk=job.pk).update(owner_key=person)
        return job

    flood = [job_of("visitor:flood") for _ in range(5)]
    single = job_of("visitor:single")
    later = job_of("visitor:flood")
    order = selectors.waiting_in_turn(CLOUD)
    assert order == [flood[0].pk, single.pk, *[job.pk for job in flood[1:]], later.pk]
    assert selectors.job_queue_position(reload(single)) == 1


def test_a_person_whose_job_holds_a_slot_waits_behind_everyones_first(cloud):
    def job_of(person: str, **fields):
        job = make_job()
        InpaintJob.objects.filter(pk=job.pk).update(owner_key=person, **fields)
        return job

    job_of("visitor:ada", status=Status.SUBMITTED, submit_claimed_at=timezone.now(), remote_task_id="t-1")
    ada_second = job_of("visitor:ada")
    bob_first = job_of("visitor:bob")
    assert selectors.waiting_in_turn(CLOUD) == [bob_first.pk, ada_second.pk]


def test_a_person_whose_job_was_sent_in_this_round_waits_behind_everyones_first(cloud):
    def job_of(person: str, **fields):
        job = make_job()
        InpaintJob.objects.filter(pk=job.pk).update(owner_key=person, **fields)
        return job

    ada_first, ada_second, bob_first = job_of("visitor:ada"), job_of("visitor:ada"), job_of("visitor:bob")
    # Ada's first job was sent, and has already ended, while her second and Bob's first waited.
    InpaintJob.objects.filter(pk=ada_first.pk).update(status=Status.SUCCEEDED, submit_claimed_at=timezone.now(),
                                                      remote_task_id="t-2", remote_ended_at=timezone.now())
    assert selectors.waiting_in_turn(CLOUD) == [bob_first.pk, ada_second.pk]


def test_job_admit_answers_claimed_taken_elsewhere_or_a_wait(cloud):
    engine = engine_get(CLOUD)
    overtaken = make_job()
    # Another worker's step took the job meanwhile: the token this step holds is no longer the job's.
    InpaintJob.objects.filter(pk=overtaken.pk).update(step_token="another-step")
    assert admission.job_admit(overtaken, engine) == admission.TAKEN_ELSEWHERE
    InpaintJob.objects.filter(pk=overtaken.pk).delete()  # out of the queue, so first's turn is next
    first = make_job()
    assert admission.job_admit(first, engine) == admission.CLAIMED
    waiting = admission.job_admit(make_job(), engine)  # the one running slot is first's
    assert not waiting.claimed and not waiting.taken_elsewhere and waiting.wait == 5.0


def test_a_slot_is_freed_once_whichever_step_sees_it_first(cloud):
    running = submitted_job(created_at=timezone.now() - datetime.timedelta(minutes=2))
    waiting = make_job()
    assert [(step.action, step.job_id) for step in admission.job_slot_free(running)] == [("submit", str(waiting.pk))]
    assert admission.job_slot_free(reload(running)) == [], "a second step that sees the end wakes nobody again"
