"""The job card's tag: unchanged while the card would show the same, changed by anything it shows."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from inpaint.models import JobResult
from inpaint.services import cards
from tests.services.fakes import Status, make_job

pytestmark = pytest.mark.django_db


def test_a_tag_stays_current_while_nothing_the_card_shows_changes():
    job = make_job()
    tag = cards.card_tag(job.pk)
    assert tag.startswith('"') and tag.endswith('"')
    assert cards.card_tag_current(job.pk, tag)
    assert cards.card_tag(job.pk) == tag


@pytest.mark.parametrize("change", [
    {"status": Status.SUBMITTED}, {"waiting_reason": "The service is busy"}, {"remote_status": "SUSPENDED"},
    {"submit_claimed_at": timezone.now()},
])
def test_a_change_of_the_job_makes_its_tag_stale(change):
    job = make_job()
    tag = cards.card_tag(job.pk)
    type(job).objects.filter(pk=job.pk).update(**change)
    assert not cards.card_tag_current(job.pk, tag)


def test_a_stored_or_failed_slot_makes_the_tag_stale():
    job = make_job(status=Status.RUNNING)
    before = cards.card_tag(job.pk)
    JobResult.objects.create(job=job, slot=0, image="jobs/x/result.png")
    stored = cards.card_tag(job.pk)
    JobResult.objects.create(job=job, slot=1, error_code="Expired")
    assert len({before, stored, cards.card_tag(job.pk)}) == 3


def test_another_job_of_the_engine_arriving_moves_a_waiting_card_but_not_an_ended_one():
    waiting, ended = make_job(), make_job(status=Status.SUCCEEDED)
    tags = cards.card_tag(waiting.pk), cards.card_tag(ended.pk)
    make_job()  # a new arrival may take its turn before the waiting job (fair turns)
    assert not cards.card_tag_current(waiting.pk, tags[0])
    assert cards.card_tag_current(ended.pk, tags[1])


def test_a_tag_is_good_only_for_its_own_job_and_cannot_be_made_up():
    job, other = make_job(), make_job()
    tag = cards.card_tag(job.pk)
    assert not cards.card_tag_current(other.pk, tag)
    digest = tag.strip('"').partition(".")[0]
    assert not cards.card_tag_current(job.pk, f'"{digest}.0000000000000000"')
    assert not cards.card_tag_current(job.pk, "")
    assert not cards.card_tag_current(job.pk, "*")


def test_a_deleted_job_has_no_current_tag():
    job = make_job()
    tag = cards.card_tag(job.pk)
    job.delete()
    assert not cards.card_tag_current(job.pk, tag)
    assert not cards.card_tag_current(uuid.uuid4(), tag)
