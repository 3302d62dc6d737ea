"""The job card's tag: unchanged while the card would show the same, changed by anything it shows."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from inpaint.models import JobResult
from inpaint.services import cards
from tests.services.fakes import Status, make_job

pytestmark = pytest.mark.django_db


def tag_of(job_id) -> str:
    return cards.card_read(job_id).tag


def test_a_tag_stays_current_while_nothing_the_card_shows_changes():
    job = make_job()
    tag = tag_of(job.pk)
    assert tag.startswith('"') and tag.endswith('"')
    assert cards.card_tag_current(job.pk, tag)
    assert tag_of(job.pk) == tag


@pytest.mark.parametrize("change", [
    {"status": Status.SUBMITTED}, {"waiting_reason": "The service is busy"}, {"remote_status": "SUSPENDED"},
    {"submit_claimed_at": timezone.now()},
])
def test_a_change_of_the_job_makes_its_tag_stale(change):
    job = make_job()
    tag = tag_of(job.pk)
    type(job).objects.filter(pk=job.pk).update(**change)
    assert not cards.card_tag_current(job.pk, tag)


def test_a_stored_or_failed_slot_makes_the_tag_stale():
    job = make_job(status=Status.RUNNING)
    before = tag_of(job.pk)
    JobResult.objects.create(job=job, slot=0, image="jobs/x/result.png")
    stored = tag_of(job.pk)
    JobResult.objects.create(job=job, slot=1, error_code="Expired")
    assert len({before, stored, tag_of(job.pk)}) == 3


def job_of(person: str, **fields):
    return make_job(owner_key=person, **fields)


def test_an_arrival_that_takes_its_turn_first_moves_a_waiting_card_but_not_an_ended_one():
    job_of("visitor:a")
    waiting, ended = job_of("visitor:a"), job_of("visitor:a", status=Status.SUCCEEDED)
    tags = tag_of(waiting.pk), tag_of(ended.pk)
    assert cards.card_read(waiting.pk).queue_position == 1
    job_of("visitor:b")  # b's first job takes its turn before a's second (fair turns)
    assert cards.card_read(waiting.pk).queue_position == 2
    assert not cards.card_tag_current(waiting.pk, tags[0])
    assert cards.card_tag_current(ended.pk, tags[1])


def test_an_arrival_behind_a_waiting_job_leaves_its_card_as_it_was():
    waiting = job_of("visitor:a")
    tag = tag_of(waiting.pk)
    job_of("visitor:b")
    job_of("visitor:a")
    assert cards.card_read(waiting.pk).queue_position == 0
    assert cards.card_tag_current(waiting.pk, tag)


def test_the_estimate_moves_the_tag_only_when_the_seconds_shown_change():
    def finished(seconds: float) -> None:
        now = timezone.now()
        job_of("visitor:done", status=Status.SUCCEEDED, submitted_at=now - datetime.timedelta(seconds=seconds),
               finished_at=now)

    finished(10.0)
    waiting = job_of("visitor:a")
    tag = tag_of(waiting.pk)
    assert cards.card_read(waiting.pk).estimate == pytest.approx(10.0)
    finished(10.6)  # the mean goes to 10.3 s: the card still says "about 10 s"
    assert cards.card_tag_current(waiting.pk, tag)
    finished(14.0)  # 11.5 s: the card would say 12 s
    assert not cards.card_tag_current(waiting.pk, tag)


def test_a_tag_is_good_only_for_its_own_job_and_cannot_be_made_up():
    job, other = make_job(), make_job()
    tag = tag_of(job.pk)
    assert not cards.card_tag_current(other.pk, tag)
    digest = tag.strip('"').partition(".")[0]
    assert not cards.card_tag_current(job.pk, f'"{digest}.0000000000000000"')
    assert not cards.card_tag_current(job.pk, "")
    assert not cards.card_tag_current(job.pk, "*")


def test_a_deleted_job_has_no_current_tag():
    job = make_job()
    tag = tag_of(job.pk)
    job.delete()
    assert not cards.card_tag_current(job.pk, tag)
    assert not cards.card_tag_current(uuid.uuid4(), tag)
