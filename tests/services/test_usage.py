"""Usage and the monthly cap."""

from __future__ import annotations

import datetime

import pytest

from inpaint.engines import engine_get
from inpaint.services import jobs, usage
from tests.services.fakes import CLOUD, Status, make_job

pytestmark = pytest.mark.django_db


def test_usage_images_this_month_counts_cloud_jobs_of_this_month():
    make_job(status=Status.SUCCEEDED, image_count=2)
    make_job(engine="wanx2.1-imageedit", status=Status.SUCCEEDED, image_count=3)
    make_job(engine="offline", status=Status.SUCCEEDED, image_count=4)
    make_job(status=Status.SUCCEEDED, image_count=5, created_at=usage._month_start() - datetime.timedelta(days=1))
    assert usage.usage_images_this_month() == 5


def test_usage_cap_check_refuses_a_job_past_the_cap(settings, cloud):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(status=Status.SUCCEEDED, image_count=2)
    with pytest.raises(jobs.JobActionRefused, match="This month's limit of 3 cloud images has been reached"):
        usage.usage_cap_check(engine_get(CLOUD), 2)
    assert cloud.submitted == []


def test_usage_cap_check_allows_a_job_within_the_cap(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(status=Status.SUCCEEDED, image_count=2)
    usage.usage_cap_check(engine_get(CLOUD), 1)


def test_usage_cap_check_counts_jobs_in_flight(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(n=3)
    with pytest.raises(jobs.JobActionRefused):
        usage.usage_cap_check(engine_get(CLOUD), 1)


def test_usage_cap_check_never_refuses_the_offline_engine(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 1
    make_job(status=Status.SUCCEEDED, image_count=5)
    usage.usage_cap_check(engine_get("offline"), 4)


