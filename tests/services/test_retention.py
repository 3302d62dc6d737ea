"""Retention: old jobs go with their files; deleting a job anywhere deletes its files."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.models import InpaintJob
from inpaint.services import retention
from inpaint.services.refusals import JobActionRefused
from tests.pictures import picture
from tests.services.fakes import Status, make_job, poll_with, submitted_job

pytestmark = pytest.mark.django_db(transaction=True)  # files go once the deletion has committed


def finished_job(cloud) -> InpaintJob:
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=picture(64, 64, fmt="PNG"))]))
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    return job


def stored_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()]


def test_deleting_a_job_deletes_every_file_it_had(cloud, media_root):
    job = finished_job(cloud)
    assert len(stored_files(media_root)) >= 8  # picture, mask, region, preview, result, model output, …
    retention.job_delete(job)
    assert stored_files(media_root) == []
    assert not InpaintJob.objects.exists()


def test_a_job_deleted_in_the_admin_or_the_shell_loses_its_files_too(cloud, media_root):
    finished_job(cloud)
    InpaintJob.objects.all().delete()
    assert stored_files(media_root) == []


def test_a_waiting_job_is_cancelled_and_deleted_but_a_painting_one_is_kept(cloud):
    waiting = make_job()
    retention.job_delete(waiting)
    assert not InpaintJob.objects.filter(pk=waiting.pk).exists()
    painting = submitted_job(status=Status.RUNNING)
    with pytest.raises(JobActionRefused, match="being painted"):
        retention.job_delete(painting)
    assert InpaintJob.objects.filter(pk=painting.pk).exists()


def test_retention_deletes_finished_jobs_older_than_the_setting_only(cloud, settings, media_root):
    settings.INPAINT_RETENTION_DAYS = 30
    old = finished_job(cloud)
    InpaintJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    recent = finished_job(cloud)
    stuck = make_job(created_at=timezone.now() - datetime.timedelta(days=40))
    assert retention.jobs_expire() == 1
    assert set(InpaintJob.objects.values_list("pk", flat=True)) == {recent.pk, stuck.pk}
    assert not any(str(old.pk) in str(path) for path in stored_files(media_root))
