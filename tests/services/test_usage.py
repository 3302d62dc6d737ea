"""Usage and the monthly cap."""

from __future__ import annotations

import datetime

import pytest

from inpaint.engines import engine_get
from inpaint.models import InpaintJob
from inpaint.services import usage
from inpaint.services.refusals import JobActionRefused
from webapp import settings as documented_settings
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
    with pytest.raises(JobActionRefused, match="You have 1 of your 4 cloud images left this month, fewer than the 2"):
        usage.usage_limits_check(engine_get(CLOUD), 2, OWNER)
    make_job(status=Status.SUCCEEDED, image_count=1)
    with pytest.raises(JobActionRefused, match="You have used your 4 cloud images for this month"):
        usage.usage_limits_check(engine_get(CLOUD), 1, OWNER)


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


# --- Caps in force by default in open mode with a key -------------------------------------------------

def test_the_open_mode_defaults_are_the_free_allowance_and_twenty_a_person(caps_unset):
    assert (documented_settings.INPAINT_OPEN_MONTHLY_IMAGE_CAP,
            documented_settings.INPAINT_OPEN_MONTHLY_IMAGE_CAP_PER_OWNER) == (500, 20)
    assert usage.usage_caps() == usage.MonthlyCaps(app=500, person=20)


def test_unset_caps_are_none_in_login_mode_or_without_a_key(caps_unset):
    caps_unset.INPAINT_ACCESS = "login"
    assert usage.usage_caps() == usage.MonthlyCaps(app=0, person=0)
    caps_unset.INPAINT_ACCESS, caps_unset.DASHSCOPE_API_KEY = "open", ""
    assert usage.usage_caps() == usage.MonthlyCaps(app=0, person=0)


def test_caps_turned_off_on_purpose_stay_off_in_open_mode(caps_unset):
    caps_unset.INPAINT_MONTHLY_IMAGE_CAP = caps_unset.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 0
    assert usage.usage_caps() == usage.MonthlyCaps(app=0, person=0)
    caps_unset.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 7
    assert usage.usage_caps() == usage.MonthlyCaps(app=0, person=7)


def test_the_21st_image_of_one_person_is_refused_in_plain_words(caps_unset):
    for _ in range(20):
        make_job(status=Status.SUCCEEDED, image_count=1)
    with pytest.raises(JobActionRefused) as refused:
        make_job()
    assert str(refused.value) == ("You have used your 20 cloud images for this month. Use the offline engine, "
                                  "or ask the administrator for more.")
    assert InpaintJob.objects.count() == 20
    make_job(engine="offline")  # the offline engine costs nothing and stays open


def test_the_app_wide_default_cap_refuses_everyone_once_reached(caps_unset):
    caps_unset.INPAINT_OPEN_MONTHLY_IMAGE_CAP = 3
    make_job(status=Status.SUCCEEDED, image_count=2)
    make_job(status=Status.SUCCEEDED, image_count=1, visitor_id="visitor-b", owner_key="visitor:visitor-b")
    with pytest.raises(JobActionRefused, match="This month's limit of 3 cloud images has been reached"):
        usage.usage_limits_check(engine_get(CLOUD), 1, "visitor:someone-new")


def test_images_left_are_the_persons_and_never_more_than_the_apps(caps_unset):
    mine = InpaintJob.objects.filter(owner_key=OWNER)
    assert usage.usage_images_left(mine) == usage.ImagesLeft(left=20, cap=20, per_person=True)
    make_job(status=Status.SUCCEEDED, image_count=3)
    make_job(n=2)  # still painting: its images are reserved
    assert usage.usage_images_left(mine) == usage.ImagesLeft(left=15, cap=20, per_person=True)
    caps_unset.INPAINT_OPEN_MONTHLY_IMAGE_CAP = 9
    make_job(status=Status.SUCCEEDED, image_count=1, visitor_id="visitor-b", owner_key="visitor:visitor-b")
    assert usage.usage_images_left(mine) == usage.ImagesLeft(left=3, cap=20, per_person=True)
    caps_unset.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 0
    assert usage.usage_images_left(mine) == usage.ImagesLeft(left=3, cap=9, per_person=False)
    caps_unset.INPAINT_MONTHLY_IMAGE_CAP = 0
    assert usage.usage_images_left(mine) is None
