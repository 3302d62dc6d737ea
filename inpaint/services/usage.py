"""Usage: images billed by cloud jobs, and the monthly cap."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from inpaint.engines import all_engines
from inpaint.engines.base import Engine
from inpaint.models import InpaintJob
from inpaint.services.jobs import JobActionRefused
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


def usage_cap_check(engine: Engine, n: int) -> None:
    """Refuse a new cloud job before any call when it could take the month past INPAINT_MONTHLY_IMAGE_CAP."""
    cap = settings.INPAINT_MONTHLY_IMAGE_CAP
    if not cap or not engine.remote:
        return
    reserved = InpaintJob.objects.filter(IN_FLIGHT, engine__in=_billed_engine_keys()).aggregate(
        total=Sum("n"))["total"] or 0
    if usage_images_this_month() + reserved + n > cap:
        raise JobActionRefused(
            f"This month's limit of {cap} cloud images has been reached. Use the offline engine, "
            "or ask the administrator to raise the limit.")
