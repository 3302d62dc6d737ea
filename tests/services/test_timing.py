"""When steps run: poll delays timed to the engine's recent tasks (inpaint.services.timing)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inpaint.services import timing
from tests.services.fakes import Status, sent_ago, submitted_job

pytestmark = pytest.mark.django_db


def test_polls_land_when_a_task_usually_ends_then_come_faster(cloud, settings, monkeypatch):
    settings.INPAINT_POLL_INTERVAL, settings.INPAINT_POLL_FAST_INTERVAL = 1.0, 0.25
    now = timezone.now()
    # One clock for the job's sending and the delay reckoned from it, so a busy machine cannot move the landing.
    monkeypatch.setattr(timezone, "now", lambda: now)
    for _ in range(3):  # earlier jobs whose tasks took 3 s on the service's clock
        submitted_job(status=Status.SUCCEEDED, finished_at=now, remote_submit_time=now - datetime.timedelta(seconds=3),
                      remote_end_time=now)
    job = submitted_job()
    assert timing.job_poll_delay(sent_ago(job, 0)) == 1.0
    assert timing.job_poll_delay(sent_ago(job, 2.5)) == pytest.approx(0.5), "lands at the expected end, not later"
    # The last step started 20 ms after it was due; the next will too, so it is sent that much sooner.
    assert timing.job_poll_delay(sent_ago(job, 2.5), started_late=0.02) == pytest.approx(0.48)
    # A backlog of seconds says nothing about the next hand-over: at most 50 ms is taken off.
    assert timing.job_poll_delay(sent_ago(job, 2.5), started_late=3.0) == pytest.approx(0.45)
    assert timing.job_poll_delay(sent_ago(job, 3.2)) == 0.25
    assert timing.job_poll_delay(sent_ago(job, 30)) == 1.0
