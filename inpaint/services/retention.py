"""Retention: old jobs go, and the owner deletes a job. Their files go with them wherever a job is deleted
(inpaint.files.deletion). Unfinished jobs are never removed."""

from __future__ import annotations

import datetime
import logging
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inpaint.models import InpaintJob
from inpaint.services.jobs import job_cancel
from inpaint.services.refusals import JobActionRefused
from inpaint.services.scheduling import Steps

logger = logging.getLogger(__name__)


def job_delete(job: InpaintJob) -> Steps:
    """The owner deletes a job and its files. A job still waiting is cancelled first (its steps are
    returned); one that is being painted is refused, so a paid result is never thrown away unseen."""
    steps: Steps = []
    if not job.is_final:
        try:
            steps = job_cancel(job)
        except JobActionRefused:
            raise JobActionRefused(_("It is being painted; delete it once it has finished.")) from None
    job.delete()
    return steps


def jobs_expire() -> int:
    """Delete finished jobs older than INPAINT_RETENTION_DAYS, and expired sessions. Returns the jobs deleted."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.INPAINT_RETENTION_DAYS)
    old = InpaintJob.objects.filter(status__in=sorted(InpaintJob.FINAL_STATUSES), created_at__lt=cutoff)
    count = 0
    for job in old.iterator():
        with transaction.atomic():
            job.delete()
        count += 1
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    if count:
        logger.info("retention: deleted %d jobs older than %d days", count, settings.INPAINT_RETENTION_DAYS)
    return count
