"""Spend guards per person and for the whole app: images billed by cloud jobs, the monthly caps, and
jobs in progress per person."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from inpaint.engines import all_engines
from inpaint.engines.base import Engine
from inpaint.models import InpaintJob
from inpaint.services.refusals import JobActionRefused
from inpaint.services.states import IN_FLIGHT


def _month_start() -> datetime.datetime:
    return timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _billed_engine_keys() -> list[str]:
    return [key for key, engine in all_engines().items() if engine.remote]


def usage_images_this_month(*, jobs: QuerySet[InpaintJob] | None = None) -> int:
    """Images billed (usage.image_count) by cloud jobs created this month."""
    jobs = InpaintJob.objects.all() if jobs is None else jobs
    return jobs.filter(engine__in=_billed_engine_keys(), created_at__gte=_month_start()).aggregate(
        total=Sum("image_count"))["total"] or 0


def _images_reserved(jobs: QuerySet[InpaintJob]) -> int:
    """Images this month's jobs have billed, plus those unfinished jobs may still bill."""
    billed = usage_images_this_month(jobs=jobs)
    pending = jobs.filter(IN_FLIGHT, engine__in=_billed_engine_keys()).aggregate(total=Sum("n"))["total"] or 0
    return billed + pending


def usage_limits_check(engine: Engine, n: int, owner_key: str) -> None:
    """Refuse a new job that would pass a cap or the person's jobs in progress, before any call.

    job_create runs this with the creation lock held, so parallel posts cannot pass together.
    """
    mine = InpaintJob.objects.filter(owner_key=owner_key)
    active_limit = settings.INPAINT_MAX_ACTIVE_JOBS
    if active_limit and mine.filter(IN_FLIGHT).count() >= active_limit:
        raise JobActionRefused(f"You have {active_limit} jobs in progress; start another when one has finished.")
    if not engine.remote:
        return
    cap = settings.INPAINT_MONTHLY_IMAGE_CAP
    if cap and _images_reserved(InpaintJob.objects.all()) + n > cap:
        raise JobActionRefused(
            f"This month's limit of {cap} cloud images has been reached. Use the offline engine, "
            "or ask the administrator to raise the limit.")
    own_cap = settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER
    if own_cap and _images_reserved(mine) + n > own_cap:
        raise JobActionRefused(
            f"You have used your {own_cap} cloud images for this month. Use the offline engine, "
            "or ask the administrator for more.")
