"""Recovery: settling a submission whose outcome is unknown, and the periodic sweep for lost steps."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from inpaint.engines import engine_get
from inpaint.engines.base import EngineError
from inpaint.models import InpaintJob
from inpaint.services.admission import job_slot_free
from inpaint.services.scheduling import Steps, step_is_current, step_next, step_rearm
from inpaint.services.timing import step_retry_delay
from inpaint.services.states import IN_FLIGHT, Status, job_fail, job_fields_update, job_transition

logger = logging.getLogger(__name__)

# A task created just before a worker died shows up in the service's task list; allow for
# clocks and the list's own lag when matching it to the job.
RECONCILE_CLOCK_SLACK = datetime.timedelta(seconds=10)
RECONCILE_LIST_DELAY = 5.0
# Stored on the job in English and shown in the reader's language (inpaint.stored_messages).
SUBMISSION_UNKNOWN_MESSAGE = gettext_noop(
    "We could not tell whether the painting service received this job. Submit it again "
    "(it may be counted twice), or leave it."
)
IN_DOUBT_CODE = "InDoubt"
IN_DOUBT_MESSAGE = gettext_noop(
    "The painting service may have painted this job, and billed it, but its answer was lost on the way back. "
    "It was not sent again. If you still want it, press “Send again”: it may then be billed twice."
)


def job_reconcile(job: InpaintJob, token: str) -> Steps:
    """Settle a submission whose outcome is unknown, without paying twice.

    The service's task list shows whether it created a task for us in the moment we sent
    it. No such task: the job was never received, so it is sent now. Exactly one task
    that no job owns, and no other job in doubt at that moment: that task is ours. Anything
    else cannot be told apart, so the person decides whether to send it again.
    """
    if not step_is_current(job, token) or job.remote_task_id or not job.submit_claimed_at:
        return []
    engine = engine_get(job.engine)
    if engine.synchronous:
        if job.answer is not None:
            # The call was answered and its answer kept: only its images are left to store.
            return step_next(job, "store")
        # A call has no task to look up: only the person may pay for it again.
        return job_in_doubt(job)
    if not engine.remote:
        # An offline fill that was interrupted costs nothing to run again.
        job_transition(job, Status.QUEUED, sources=[Status.QUEUED, Status.RUNNING], submit_claimed_at=None)
        return step_next(job, "submit")
    if job.status != Status.QUEUED:
        return []
    now = timezone.now()
    window_start = job.submit_claimed_at - RECONCILE_CLOCK_SLACK
    try:
        # The list filters on the service's clock; ask wide and match on its creation time ourselves.
        listed = engine.list_tasks(start=window_start - datetime.timedelta(hours=11),
                                   end=now + datetime.timedelta(hours=11))
    except EngineError as error:
        if error.transient:
            return step_next(job, "reconcile", step_retry_delay(job.submit_attempts))
        job_fail(job, code="SubmissionUnknown", message=SUBMISSION_UNKNOWN_MESSAGE)
        return job_slot_free(job)
    in_window = [task for task in listed
                 if window_start.timestamp() * 1000 <= task.created_ms <= (now + RECONCILE_CLOCK_SLACK).timestamp() * 1000]
    owned = set(InpaintJob.objects.filter(remote_task_id__in=[task.task_id for task in in_window])
                .values_list("remote_task_id", flat=True))
    orphans = [task for task in in_window if task.task_id not in owned]
    others_in_doubt = InpaintJob.objects.filter(
        engine=job.engine, status=Status.QUEUED, remote_task_id="", submit_claimed_at__gte=window_start,
        submit_claimed_at__lte=now).exclude(pk=job.pk).exists()
    if not orphans:
        job_fields_update(job, sources=[Status.QUEUED], submit_claimed_at=None, waiting_reason="")
        return step_next(job, "submit")
    if len(orphans) == 1 and not others_in_doubt:
        if job_transition(job, Status.SUBMITTED, sources=[Status.QUEUED], where=Q(remote_task_id=""),
                          remote_task_id=orphans[0].task_id, remote_request_id=orphans[0].request_id,
                          submitted_at=now, waiting_reason=""):
            return step_next(job, "poll")
        return []
    job_fail(job, code="SubmissionUnknown", message=SUBMISSION_UNKNOWN_MESSAGE)
    return job_slot_free(job)


def job_in_doubt(job: InpaintJob) -> Steps:
    """End a synchronous call whose outcome was lost (a worker killed in it, a timeout after sending): it may
    have been painted and billed, and the app never sends it again by itself."""
    if job_fail(job, code=IN_DOUBT_CODE, message=IN_DOUBT_MESSAGE):
        # The spend caps count its images as billed: they may have been.
        InpaintJob.objects.filter(pk=job.pk, image_count__isnull=True).update(image_count=job.n)
    return job_slot_free(job)


def jobs_sweep() -> Steps:
    """Pick up again every unfinished job whose next step is overdue.

    A step is lost when a worker is killed while holding it or the broker forgets it on a
    restart. The job's own fields say where it stands, so the right step is scheduled again;
    the fresh token makes any late copy of the lost step a no-op.
    """
    overdue = timezone.now() - datetime.timedelta(seconds=settings.INPAINT_SWEEP_GRACE)
    steps: Steps = []
    for job in InpaintJob.objects.filter(IN_FLIGHT, step_due_at__lt=overdue):
        if job.remote_task_id:
            action = "poll"
        elif job.submit_claimed_at:
            action = "reconcile"
        else:
            action = "submit"
        logger.info("sweep: job %s was stuck in %s; scheduling %s again", job.pk, job.status, action)
        steps += step_rearm(job, action)
    return steps
