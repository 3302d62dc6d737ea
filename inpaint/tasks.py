"""Celery tasks: load the job by id, call one service step, schedule the steps it returns.

Every step task carries the job's step token; a stale token (an older chain, a late
redelivery) makes the step a no-op, so each job has one live chain. Submitting is
ack-early (the default); polling and reconciling only read remote state, so they are
``acks_late`` and may run again after a crash. Nothing here waits: a step that must wait
is scheduled again with a countdown.
"""

from celery import shared_task

from inpaint.models import InpaintJob


def _job(job_id: str) -> InpaintJob | None:
    # A job deleted meanwhile needs nothing more.
    return InpaintJob.objects.filter(pk=job_id).first()


@shared_task(ignore_result=True)
def job_submit_task(job_id: str, token: str) -> None:
    from inpaint import services

    if job := _job(job_id):
        services.steps_dispatch(services.job_submit(job, token))


@shared_task(ignore_result=True, acks_late=True)
def job_poll_task(job_id: str, token: str) -> None:
    from inpaint import services

    if job := _job(job_id):
        services.steps_dispatch(services.job_poll(job, token))


@shared_task(ignore_result=True, acks_late=True)
def job_reconcile_task(job_id: str, token: str) -> None:
    from inpaint import services

    if job := _job(job_id):
        services.steps_dispatch(services.job_reconcile(job, token))


@shared_task(ignore_result=True)
def jobs_sweep_task() -> None:
    from inpaint import services

    services.steps_dispatch(services.jobs_sweep())


STEP_TASKS = {"submit": job_submit_task, "poll": job_poll_task, "reconcile": job_reconcile_task}
