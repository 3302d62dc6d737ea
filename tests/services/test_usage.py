"""Usage and the monthly cap."""

from __future__ import annotations

import datetime

import pytest

from inpaint.engines import engine_get
from inpaint.models import InpaintJob
from inpaint.services import usage
from inpaint.services.refusals import JobActionRefused
from tests.services.fakes import CLOUD, Status, make_job

pytestmark = pytest.mark.django_db


def test_usage_images_this_month_counts_cloud_jobs_of_this_month():
    make_job(status=Status.SUCCEEDED, image_count=2)
    make_job(engine="wanx2.1-imageedit", status=Status.SUCCEEDED, image_count=3)
    make_job(engine="offline", status=Status.SUCCEEDED, image_count=4)
    make_job(status=Status.SUCCEEDED, image_count=5, created_at=usage._month_start() - datetime.timedelta(days=1))
    assert usage.usage_images_this_month() == 5


OWNER = "visitor:visitor-a"  # make_job's owner


def test_the_cap_refuses_a_job_past_it(settings, cloud):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(status=Status.SUCCEEDED, image_count=2)
    with pytest.raises(JobActionRefused, match="This month's limit of 3 cloud images has been reached"):
        usage.usage_limits_check(engine_get(CLOUD), 2, OWNER)
    assert cloud.submitted == []


def test_the_cap_allows_a_job_within_it(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(status=Status.SUCCEEDED, image_count=2)
    usage.usage_limits_check(engine_get(CLOUD), 1, OWNER)


def test_the_cap_counts_jobs_in_flight(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(n=3)
    with pytest.raises(JobActionRefused):
        usage.usage_limits_check(engine_get(CLOUD), 1, OWNER)


def test_the_cap_never_refuses_the_offline_engine(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 1
    make_job(status=Status.SUCCEEDED, image_count=5)
    usage.usage_limits_check(engine_get("offline"), 4, OWNER)


def test_the_cap_per_person_counts_only_their_own_jobs(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 4
    make_job(status=Status.SUCCEEDED, image_count=3)
    usage.usage_limits_check(engine_get(CLOUD), 4, "visitor:someone-else")
    with pytest.raises(JobActionRefused, match="You have used your 4 cloud images for this month"):
        usage.usage_limits_check(engine_get(CLOUD), 2, OWNER)


def test_a_person_may_have_only_so_many_jobs_in_progress(settings):
    settings.INPAINT_MAX_ACTIVE_JOBS = 2
    make_job(engine="offline")
    make_job(engine="offline")
    with pytest.raises(JobActionRefused, match="You have 2 jobs in progress"):
        make_job(engine="offline")
    assert InpaintJob.objects.count() == 2


def test_a_refused_job_leaves_no_files(settings, media_root):
    settings.INPAINT_MAX_ACTIVE_JOBS = 1
    make_job(engine="offline")
    with pytest.raises(JobActionRefused):
        make_job(engine="offline")
    assert len(list(media_root.rglob("*.*"))) == 2  # the first job's picture and mask only
