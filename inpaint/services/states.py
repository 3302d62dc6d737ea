"""Every change of a job's state: one conditional UPDATE, checked against ``InpaintJob.TRANSITIONS``.

The UPDATE only matches while the job is still in a status the change is allowed from, so
a step that runs twice (a redelivered task, a sweep racing a late worker) changes nothing
the second time.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from inpaint.models import InpaintJob

Status = InpaintJob.Status
UNFINISHED = sorted(InpaintJob.UNFINISHED_STATUSES)
IN_FLIGHT = Q(status__in=UNFINISHED)


def _allowed_sources(target: str) -> set[str]:
    """The statuses a job may be in for this change; staying in an unfinished status is always allowed."""
    staying = {target} if target in InpaintJob.UNFINISHED_STATUSES else set()
    return staying | {source for source, targets in InpaintJob.TRANSITIONS.items() if target in targets}


def job_transition(job: InpaintJob, target: str, *, sources=None, where: Q | None = None, **changes) -> bool:
    """Move the job to ``target`` with ``changes``, if it is still in one of ``sources`` (default: every
    status the table allows). True if it was.

    Asking for a change the table does not allow is a programming error, so it raises.
    """
    allowed = _allowed_sources(target)
    sources = set(sources) if sources is not None else allowed
    if not sources <= allowed:
        raise ValueError(f"{sorted(sources - allowed)} → {target} is not in InpaintJob.TRANSITIONS")
    return _job_update(job, sources, where, status=target, **changes)


def job_fields_update(job: InpaintJob, *, sources=None, where: Q | None = None, **changes) -> bool:
    """Change fields of a job that is still unfinished (and in ``sources``, if given), its status left as
    it is. True if it was."""
    unfinished = set(InpaintJob.UNFINISHED_STATUSES)
    sources = set(sources) if sources is not None else unfinished
    if not sources <= unfinished:
        raise ValueError(f"{sorted(sources - unfinished)} are finished: their fields no longer change")
    return _job_update(job, sources, where, **changes)


def _job_update(job: InpaintJob, sources: set[str], where: Q | None, **changes) -> bool:
    # Conditional on the status (and ``where``), so a step that runs twice changes nothing the second time.
    rows = InpaintJob.objects.filter(pk=job.pk, status__in=sorted(sources))
    if where is not None:
        rows = rows.filter(where)
    changed = rows.update(updated_at=timezone.now(), **changes) == 1
    if changed:
        job.refresh_from_db()
    return changed


def job_fail(job: InpaintJob, *, code: str, message: str) -> bool:
    return job_transition(job, Status.FAILED, error_code=code[:80], error_message=message[:500], waiting_reason="",
                          finished_at=timezone.now())


def job_wait(job: InpaintJob, reason: str, **changes) -> None:
    """Say why an unfinished job is waiting (and record counters) without changing its status."""
    job_fields_update(job, waiting_reason=reason[:300], **changes)
