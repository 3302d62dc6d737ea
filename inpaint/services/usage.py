"""Spend guards per person and for the whole app: images billed by cloud jobs, the monthly caps, and
jobs in progress per person.

An open page with a DashScope key is capped unless the caps are turned off on purpose: a cap left
unset takes the open-mode default (the free allowance for the app, a share of it per person); set
to 0 or "off" it is none. In login mode an unset cap is none, as the staff who sign in are known.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inpaint.engines import all_engines, engines_offered
from inpaint.engines.base import Engine
from inpaint.models import InpaintJob
from inpaint.services.refusals import JobActionRefused
from inpaint.services.states import IN_FLIGHT, Status


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


@dataclass(frozen=True)
class MonthlyCaps:
    """Cloud images a month (0: no cap)."""
    app: int
    person: int


def usage_caps() -> MonthlyCaps:
    """The caps in force: the settings, or the open-mode defaults where a cap is unset (see the module)."""
    capped_by_default = settings.INPAINT_ACCESS == "open" and bool(settings.DASHSCOPE_API_KEY)

    def in_force(value: int | None, open_default: int) -> int:
        if value is not None:
            return value
        return open_default if capped_by_default else 0

    return MonthlyCaps(app=in_force(settings.INPAINT_MONTHLY_IMAGE_CAP, settings.INPAINT_OPEN_MONTHLY_IMAGE_CAP),
                       person=in_force(settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER,
                                       settings.INPAINT_OPEN_MONTHLY_IMAGE_CAP_PER_OWNER))


@dataclass(frozen=True)
class ImagesLeft:
    """What the page says is left this month: ``left`` of ``cap``, the person's cap or else the app's."""
    left: int
    cap: int
    per_person: bool


def usage_images_left(mine: QuerySet[InpaintJob]) -> ImagesLeft | None:
    """Cloud images the person may still make this month (None when no cap applies or no cloud engine runs)."""
    if not any(engine.remote for engine in engines_offered()):
        return None
    caps = usage_caps()
    app_left = caps.app - _images_reserved(InpaintJob.objects.all()) if caps.app else None
    if caps.person:
        own_left = caps.person - _images_reserved(mine)
        left = own_left if app_left is None else min(own_left, app_left)
        return ImagesLeft(left=max(0, left), cap=caps.person, per_person=True)
    if app_left is not None:
        return ImagesLeft(left=max(0, app_left), cap=caps.app, per_person=False)
    return None


def usage_jobs_in_progress(owner_key: str) -> int:
    """The person's unfinished jobs, less held ones (they wait for a batch or inpaint.services.holds to release
    them)."""
    return InpaintJob.objects.filter(IN_FLIGHT, owner_key=owner_key, held=False).count()


def usage_active_limit_reached(owner_key: str) -> bool:
    """Whether the person has as many jobs in progress as INPAINT_MAX_ACTIVE_JOBS allows."""
    limit = settings.INPAINT_MAX_ACTIVE_JOBS
    return bool(limit) and usage_jobs_in_progress(owner_key) >= limit


def usage_waiting_check(owner_key: str) -> None:
    """Refuse one more of a person's tasks held for their turn past INPAINT_API_MAX_WAITING_TASKS: what a
    script sends faster than it is painted waits, up to a bound, as files on this server."""
    limit = settings.INPAINT_API_MAX_WAITING_TASKS
    if InpaintJob.objects.filter(owner_key=owner_key, held=True, batch__isnull=True, status=Status.QUEUED
                                 ).count() >= limit:
        raise JobActionRefused(ngettext(
            "You have %(count)d task waiting for your jobs in progress to finish; send more when it has started.",
            "You have %(count)d tasks waiting for your jobs in progress to finish; send more when some have "
            "started.", limit) % {"count": limit})


def usage_limits_check(engine: Engine, n: int, owner_key: str, *, in_progress_counted: bool = True) -> None:
    """Refuse a new job that would pass a cap or (``in_progress_counted``) the person's jobs in progress, before
    any call; ``n`` is the images asked for (a whole batch's, checked before it starts).

    job_create runs this with the creation lock held, so parallel posts cannot pass together.
    """
    mine = InpaintJob.objects.filter(owner_key=owner_key)
    if in_progress_counted and usage_active_limit_reached(owner_key):
        active_limit = settings.INPAINT_MAX_ACTIVE_JOBS
        raise JobActionRefused(ngettext("You have %(count)d job in progress; start another when it has finished.",
                                        "You have %(count)d jobs in progress; start another when one has finished.",
                                        active_limit) % {"count": active_limit})
    if not engine.remote:
        return
    caps = usage_caps()
    if caps.app and _images_reserved(InpaintJob.objects.all()) + n > caps.app:
        raise JobActionRefused(
            _("This month's limit of %(cap)d cloud images has been reached. Use the offline engine, "
              "or ask the administrator to raise the limit.") % {"cap": caps.app})
    reserved = _images_reserved(mine) if caps.person else 0
    if caps.person and reserved + n > caps.person:
        left = max(0, caps.person - reserved)
        if left:
            raise JobActionRefused(_("You have %(left)d of your %(cap)d cloud images left this month, fewer than "
                                     "the %(asked)d asked for. Ask for %(left)d or use the offline engine.")
                                   % {"left": left, "cap": caps.person, "asked": n})
        raise JobActionRefused(
            _("You have used your %(cap)d cloud images for this month. Use the offline engine, "
              "or ask the administrator for more.") % {"cap": caps.person})
