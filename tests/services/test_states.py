"""The state machine: every status change is checked against InpaintJob.TRANSITIONS."""

from __future__ import annotations

import pytest

from inpaint.models import InpaintJob
from inpaint.services.states import job_fields_update, job_transition
from tests.services.fakes import Status, make_job, reload

pytestmark = pytest.mark.django_db


def test_final_and_unfinished_statuses_come_from_the_table():
    assert InpaintJob.FINAL_STATUSES == {Status.SUCCEEDED, Status.FAILED, Status.CANCELED}
    assert InpaintJob.UNFINISHED_STATUSES == {Status.QUEUED, Status.SUBMITTED, Status.RUNNING}


def test_every_status_in_the_docstring_diagram_is_in_the_table():
    diagram = InpaintJob.__doc__
    for status in InpaintJob.TRANSITIONS:
        assert status in diagram


def test_an_allowed_change_happens_once():
    job = make_job()
    assert job_transition(job, Status.CANCELED)
    assert reload(job).status == Status.CANCELED
    assert not job_transition(job, Status.CANCELED)


def test_a_change_the_table_forbids_raises():
    job = make_job()
    with pytest.raises(ValueError, match="not in InpaintJob.TRANSITIONS"):
        job_transition(job, Status.SUCCEEDED, sources=[Status.QUEUED])


def test_a_final_job_cannot_move():
    job = make_job(status=Status.FAILED)
    assert not job_transition(job, Status.RUNNING)
    assert reload(job).status == Status.FAILED


def test_fields_of_an_unfinished_job_change_without_a_status_change():
    job = make_job()
    assert job_fields_update(job, waiting_reason="busy")
    assert reload(job).waiting_reason == "busy"
    assert not job_fields_update(make_job(status=Status.SUCCEEDED), waiting_reason="late")


def test_a_field_update_asked_of_finished_statuses_is_a_programming_error():
    with pytest.raises(ValueError, match="finished"):
        job_fields_update(make_job(), sources=[Status.SUCCEEDED], waiting_reason="late")
