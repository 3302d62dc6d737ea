"""Celery tasks: load the job by id, call one service step, schedule the steps it returns.

Every step task carries the job's step token; a stale token (an older chain, a late
redelivery) makes the step a no-op, so each job has one live chain and a redelivered task
is harmless. That is why every task is ``acks_late`` (in settings): a worker killed mid-step
has its task handed to another worker at once. Nothing here waits: a step that must wait
is scheduled again with a countdown. A step that ends a batch's job also releases the batch's
next one. ``inpaint.services.scheduling`` finds these tasks by their registered names.
"""

from celery import shared_task

from inpaint.api import uploads
from inpaint.models import InpaintJob
from inpaint.services import batches, floods, holds, polling, recovery, results, retention, submission
from inpaint.services.scheduling import steps_dispatch


def _job(job_id: str) -> InpaintJob | None:
    # A job deleted meanwhile needs nothing more.
    return InpaintJob.objects.filter(pk=job_id).first()


def _step_run(job_id: str, token: str, step) -> None:
    if job := _job(job_id):
        steps_dispatch(step(job, token))
        steps_dispatch(batches.batch_job_ended(job))
        steps_dispatch(holds.person_job_ended(job))


@shared_task(ignore_result=True)
def job_submit_task(job_id: str, token: str) -> None:
    _step_run(job_id, token, submission.job_submit)


@shared_task(ignore_result=True)
def job_poll_task(job_id: str, token: str) -> None:
    _step_run(job_id, token, polling.job_poll)


@shared_task(ignore_result=True)
def job_reconcile_task(job_id: str, token: str) -> None:
    _step_run(job_id, token, recovery.job_reconcile)


@shared_task(ignore_result=True)
def job_store_task(job_id: str, token: str) -> None:
    _step_run(job_id, token, results.job_answer_store)


@shared_task(ignore_result=True)
def jobs_sweep_task() -> None:
    steps_dispatch(recovery.jobs_sweep())
    steps_dispatch(batches.batches_release())
    steps_dispatch(holds.tasks_release())


@shared_task(ignore_result=True)
def jobs_expire_task() -> None:
    retention.jobs_expire()
    floods.rate_counts_expire()
    uploads.uploads_expire()
