"""Business logic of Inpaint Studio: a job from the form to stored results.

Each step returns the next ``Step`` (or None when the job needs nothing more); the Celery
tasks in ``inpaint.tasks`` only load the job, call a step and schedule what it returns.
Every state change is a conditional UPDATE, so a step that runs twice changes nothing the
second time, and a paid submission is made at most once per job.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import random
import threading
import uuid
from typing import NamedTuple

import requests
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from inpaint import images
from inpaint.engines import all_engines, engine_get
from inpaint.engines.base import Engine, JobInput, SlotResult, TaskState, TaskStatus
from inpaint.engines.dashscope import DashScopeError
from inpaint.images import PreparedImage
from inpaint.models import EngineGate, InpaintJob, JobResult
from inpaint.tasks import STEP_TASKS, job_submit_task

logger = logging.getLogger(__name__)
Status = InpaintJob.Status

MEDIA_LINK_SALT = "inpaint.media-link"
MAX_RESULT_BYTES = 50 * 1024 * 1024
# A task created just before a worker died shows up in the service's task list; allow for
# clocks and the list's own lag when matching it to the job.
RECONCILE_CLOCK_SLACK = datetime.timedelta(seconds=10)
RECONCILE_LIST_DELAY = 5.0


class Step(NamedTuple):
    """One task to schedule: run ``action`` for the job after ``countdown`` seconds, if ``token`` is still its."""

    action: str  # "submit", "poll" or "reconcile"
    job_id: str
    token: str
    countdown: float = 0.0


Steps = list[Step]
UNFINISHED = [Status.QUEUED, Status.SUBMITTED, Status.RUNNING]
IN_FLIGHT = Q(status__in=UNFINISHED)
# A job holds one of the account's running slots from its claim until its remote task ends.
HOLDS_SLOT = IN_FLIGHT & Q(submit_claimed_at__isnull=False, remote_ended_at__isnull=True)
WAITING = Q(status=Status.QUEUED, submit_claimed_at__isnull=True, remote_task_id="")


class JobActionRefused(Exception):
    """An action the user asked for that cannot be done now; the message says why."""


# --- Creating and listing -------------------------------------------------------------------

def job_list(*, user, session_key: str) -> QuerySet[InpaintJob]:
    """The visitor's own jobs: a signed-in user's, or this browser session's."""
    if user is not None and user.is_authenticated:
        return InpaintJob.objects.filter(owner=user)
    if not session_key:
        return InpaintJob.objects.none()
    return InpaintJob.objects.filter(owner__isnull=True, session_key=session_key)


def job_create(*, user, session_key: str, engine: Engine, prompt: str, style: str, size: str, n: int,
               mask_color: list, base: PreparedImage, mask_png: bytes, seed: int | None = None) -> InpaintJob:
    job = InpaintJob(
        owner=user if user is not None and user.is_authenticated else None,
        session_key=session_key, engine=engine.key, prompt=prompt, style=style, size=size, n=n,
        mask_color=mask_color, seed=random.randrange(2**31) if seed is None else seed,
        base_width=base.width, base_height=base.height,
    )
    job.base_image.save(f"base.{base.extension}", ContentFile(base.content), save=False)
    job.mask_image.save("mask.png", ContentFile(mask_png), save=False)
    if base.alpha:
        job.base_alpha.save("base-alpha.png", ContentFile(base.alpha), save=False)
    job.step_token, job.step_due_at = uuid.uuid4().hex, timezone.now()
    job.save()
    job_id, token = str(job.pk), job.step_token
    transaction.on_commit(lambda: job_submit_task.delay(job_id, token))
    return job


def job_input_build(job: InpaintJob) -> JobInput:
    with job.base_image.open("rb") as base, job.mask_image.open("rb") as mask:
        base_bytes, mask_bytes = base.read(), mask.read()
    return JobInput(
        base_image=base_bytes, mask_image=mask_bytes, base_name=job.base_image.name, mask_name=job.mask_image.name,
        prompt=job.prompt, style=job.style, size=job.size, n=job.n, seed=job.seed,
        link=media_link_create if settings.INPAINT_PUBLIC_BASE_URL else None,
    )


# --- Scheduling: one live chain of steps per job ------------------------------------------------

def _next(job: InpaintJob, action: str, countdown: float = 0.0) -> Steps:
    """Make ``action`` the job's next step, unless another chain has taken the job over meanwhile."""
    token = uuid.uuid4().hex
    due = timezone.now() + datetime.timedelta(seconds=countdown)
    if not InpaintJob.objects.filter(pk=job.pk, step_token=job.step_token).update(step_token=token, step_due_at=due):
        return []
    job.step_token, job.step_due_at = token, due
    return [Step(action, str(job.pk), token, countdown)]


def _rearm(job: InpaintJob, action: str) -> Steps:
    """Start a new chain for the job now; any older chain's step will find its token stale."""
    job.step_token = InpaintJob.objects.filter(pk=job.pk).values_list("step_token", flat=True).first() or ""
    return _next(job, action)


@contextlib.contextmanager
def _leased(job: InpaintJob):
    """Keep the job's due time ahead of the sweep while this worker does slow work on it.

    A paid call, a result download or an offline fill can take minutes when all goes
    well, yet a worker killed in the middle must not leave the job (and, for a cloud
    engine, the account's running slot) stuck for that long. So the step holds a short
    lease, INPAINT_STEP_LEASE seconds, renewed every third of it from a side thread while
    the process lives: a live worker is never taken for lost, and a dead one's job is
    picked up by the sweep soon after its lease runs out.
    """
    seconds = settings.INPAINT_STEP_LEASE
    own_step = InpaintJob.objects.filter(pk=job.pk, step_token=job.step_token)

    def renew() -> None:
        own_step.update(step_due_at=timezone.now() + datetime.timedelta(seconds=seconds))

    def keep_renewing() -> None:
        try:
            while not finished.wait(seconds / 3):
                try:
                    renew()
                except DatabaseError:
                    logger.warning("could not renew the lease on job %s; trying again", job.pk)
        finally:
            connections.close_all()  # this thread's own connection

    renew()
    finished = threading.Event()
    renewer = threading.Thread(target=keep_renewing, name=f"lease-{job.pk}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        finished.set()
        renewer.join()


def _current(job: InpaintJob, token: str) -> bool:
    return bool(token) and token == job.step_token


# --- State changes ----------------------------------------------------------------------------

def _transition(job: InpaintJob, *, from_statuses, extra_filter: Q | None = None, **changes) -> bool:
    """Apply ``changes`` only if the job is still in one of ``from_statuses``; True if it was."""
    rows = InpaintJob.objects.filter(pk=job.pk, status__in=list(from_statuses))
    if extra_filter is not None:
        rows = rows.filter(extra_filter)
    changed = rows.update(updated_at=timezone.now(), **changes) == 1
    if changed:
        job.refresh_from_db()
    return changed


def job_fail(job: InpaintJob, *, code: str, message: str) -> bool:
    return _transition(job, from_statuses=UNFINISHED, status=Status.FAILED,
                       error_code=code[:80], error_message=message[:500], waiting_reason="",
                       finished_at=timezone.now())


def _wait(job: InpaintJob, reason: str, **changes) -> None:
    InpaintJob.objects.filter(IN_FLIGHT, pk=job.pk).update(
        waiting_reason=reason[:300], updated_at=timezone.now(), **changes)


def retry_delay(attempt: int) -> float:
    """Exponential back-off with jitter: about 1, 2, 4, 8 … s, capped, each drawn from its upper half."""
    ceiling = min(settings.INPAINT_RETRY_MAX_DELAY, settings.INPAINT_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def _waiting_reason(error: DashScopeError) -> str:
    if error.throttled:
        return "DashScope is busy right now; your job will be sent as soon as it has room."
    return "DashScope did not answer properly; trying again shortly."


# --- Admission: the account's limits, shared by all workers -----------------------------------------

def engine_limits(engine: Engine) -> tuple[int, int]:
    """(submissions a second, remote tasks in progress) for an engine, from settings or its documented defaults."""
    rate = settings.INPAINT_SUBMIT_RATES.get(engine.key, engine.submit_rate)
    running = settings.INPAINT_RUNNING_LIMITS.get(engine.key, engine.running_limit)
    return int(rate), int(running)


def _admit(job: InpaintJob, engine: Engine) -> float:
    """Claim the job for its one paid submission if the engine's limits allow it now.

    Returns 0 when claimed, else the seconds to wait before asking again (a freed slot
    wakes the next job sooner). The gate row is locked for the decision, so workers on any
    number of hosts agree; jobs are admitted first come, first served.
    """
    rate, running_limit = engine_limits(engine)
    EngineGate.objects.get_or_create(engine=engine.key)
    with transaction.atomic():
        gate = EngineGate.objects.select_for_update().get(engine=engine.key)
        now = timezone.now()
        if gate.paused_until and gate.paused_until > now:
            return (gate.paused_until - now).total_seconds()
        engine_jobs = InpaintJob.objects.filter(engine=engine.key)
        free_slots = running_limit - engine_jobs.filter(HOLDS_SLOT).count()
        ahead = engine_jobs.filter(WAITING, created_at__lt=job.created_at).count()
        if free_slots <= ahead:
            return settings.INPAINT_ADMISSION_RECHECK
        window_start = now - datetime.timedelta(seconds=1)
        recent = sorted(t for t in gate.recent_submits if datetime.datetime.fromisoformat(t) > window_start)
        if len(recent) >= rate:
            return (datetime.datetime.fromisoformat(recent[0]) - window_start).total_seconds() + 0.01
        claimed = InpaintJob.objects.filter(pk=job.pk, step_token=job.step_token).filter(WAITING).update(
            submit_claimed_at=now, submit_attempts=F("submit_attempts") + 1, updated_at=now)
        if not claimed:
            return -1.0
        gate.recent_submits = recent + [now.isoformat()]
        gate.save(update_fields=["recent_submits"])
    job.refresh_from_db()
    return 0.0


def _throttle(engine: Engine) -> float:
    """The service said 429: nobody submits to this engine for a growing pause. Returns the pause."""
    with transaction.atomic():
        gate = EngineGate.objects.select_for_update().get(engine=engine.key)
        gate.throttle_strikes += 1
        pause = retry_delay(gate.throttle_strikes)
        gate.paused_until = timezone.now() + datetime.timedelta(seconds=pause)
        gate.save(update_fields=["throttle_strikes", "paused_until"])
    return pause


def _wake_waiting(engine_key: str) -> Steps:
    """A slot just freed: give the oldest waiting jobs their turn now instead of at their next recheck."""
    engine = engine_get(engine_key)
    if not engine.remote:
        return []
    _, running_limit = engine_limits(engine)
    steps: Steps = []
    for job in InpaintJob.objects.filter(WAITING, engine=engine_key).order_by("created_at")[:running_limit]:
        steps += _rearm(job, "submit")
    return steps


def job_queue_position(job: InpaintJob) -> int | None:
    """How many jobs of the same engine wait ahead of this one, while it waits."""
    if job.status != Status.QUEUED or job.submit_claimed_at or not engine_get(job.engine).remote:
        return None
    return InpaintJob.objects.filter(WAITING, engine=job.engine, created_at__lt=job.created_at).count()


# --- Submitting ---------------------------------------------------------------------------------

def job_submit(job: InpaintJob, token: str) -> Steps:
    """Send a queued job to its engine, at most once, when the engine's limits allow."""
    if not _current(job, token) or job.status != Status.QUEUED or job.remote_task_id:
        return []
    if job.submit_claimed_at:
        # An earlier attempt claimed the job and never recorded the outcome.
        return _next(job, "reconcile")
    engine = engine_get(job.engine)
    if not engine.remote:
        return _run_offline(job, engine)
    if not engine.is_configured():
        job_fail(job, code="NoApiKey", message=error_message_for("InvalidApiKey", ""))
        return []
    wait = _admit(job, engine)
    if wait < 0:
        return []
    if wait > 0:
        return _next(job, "submit", wait)
    try:
        with _leased(job):
            state = engine.submit(job_input_build(job))
    except DashScopeError as error:
        return _submit_failed(job, engine, error)
    EngineGate.objects.filter(engine=engine.key).update(throttle_strikes=0)
    _transition(job, from_statuses=[Status.QUEUED], status=Status.SUBMITTED, remote_task_id=state.task_id,
                remote_request_id=state.request_id, submitted_at=timezone.now(), waiting_reason="")
    return _next(job, "poll", settings.INPAINT_POLL_INTERVAL)


def _submit_failed(job: InpaintJob, engine: Engine, error: DashScopeError) -> Steps:
    if error.maybe_created:
        _wait(job, "Checking whether DashScope received your job before sending it again.")
        return _next(job, "reconcile", RECONCILE_LIST_DELAY)
    if error.transient:
        # No task was created, so the next attempt is still the first paid submission.
        pause = _throttle(engine) if error.throttled else retry_delay(job.submit_attempts)
        _wait(job, _waiting_reason(error), submit_claimed_at=None)
        job.refresh_from_db()
        return _next(job, "submit", pause)
    job_fail(job, code=error.code, message=error_message_for(error.code, error.message))
    return _wake_waiting(engine.key)


def _run_offline(job: InpaintJob, engine: Engine) -> Steps:
    now = timezone.now()
    if not _transition(job, from_statuses=[Status.QUEUED], extra_filter=Q(submit_claimed_at__isnull=True),
                       status=Status.RUNNING, submit_claimed_at=now, submitted_at=now, started_at=now,
                       submit_attempts=F("submit_attempts") + 1):
        return []
    with _leased(job):
        try:
            state = engine.submit(job_input_build(job))
        except Exception as exc:  # noqa: BLE001 - any failure of the fill must end the job, not lose it
            logger.exception("offline engine failed on job %s", job.pk)
            job_fail(job, code="OfflineEngineError",
                     message=f"The offline engine could not paint this picture ({exc.__class__.__name__}). Try another mask.")
            return []
        job_results_store(job, state)
    return []


def job_reconcile(job: InpaintJob, token: str) -> Steps:
    """Settle a submission whose outcome is unknown, without paying twice.

    The service's task list shows whether it created a task for us in the moment we sent
    it. No such task: the job was never received, so it is sent now. Exactly one task
    that no job owns, and no other job in doubt at that moment: that task is ours. Anything
    else cannot be told apart, so the person decides whether to send it again.
    """
    if not _current(job, token) or job.remote_task_id or not job.submit_claimed_at:
        return []
    engine = engine_get(job.engine)
    if not engine.remote:
        # An offline fill that was interrupted costs nothing to run again.
        _transition(job, from_statuses=[Status.QUEUED, Status.RUNNING], status=Status.QUEUED, submit_claimed_at=None)
        return _next(job, "submit")
    if job.status != Status.QUEUED:
        return []
    now = timezone.now()
    window_start = job.submit_claimed_at - RECONCILE_CLOCK_SLACK
    try:
        # The list filters on the service's clock; ask wide and match on gmt_create ourselves.
        listed = engine.list_tasks(start=window_start - datetime.timedelta(hours=11),
                                   end=now + datetime.timedelta(hours=11))
    except DashScopeError as error:
        if error.transient:
            return _next(job, "reconcile", retry_delay(job.submit_attempts))
        job_fail(job, code="SubmissionUnknown", message=SUBMISSION_UNKNOWN_MESSAGE)
        return _wake_waiting(engine.key)
    in_window = [task for task in listed
                 if window_start.timestamp() * 1000 <= int(task.get("gmt_create") or 0)
                 <= (now + RECONCILE_CLOCK_SLACK).timestamp() * 1000]
    owned = set(InpaintJob.objects.filter(remote_task_id__in=[t["task_id"] for t in in_window])
                .values_list("remote_task_id", flat=True))
    orphans = [task for task in in_window if task["task_id"] not in owned]
    others_in_doubt = InpaintJob.objects.filter(
        engine=job.engine, status=Status.QUEUED, remote_task_id="", submit_claimed_at__gte=window_start,
        submit_claimed_at__lte=now).exclude(pk=job.pk).exists()
    if not orphans:
        _transition(job, from_statuses=[Status.QUEUED], submit_claimed_at=None, waiting_reason="")
        return _next(job, "submit")
    if len(orphans) == 1 and not others_in_doubt:
        if _transition(job, from_statuses=[Status.QUEUED], extra_filter=Q(remote_task_id=""),
                       status=Status.SUBMITTED, remote_task_id=orphans[0]["task_id"],
                       remote_request_id=orphans[0].get("request_id", ""), submitted_at=now, waiting_reason=""):
            return _next(job, "poll")
        return []
    job_fail(job, code="SubmissionUnknown", message=SUBMISSION_UNKNOWN_MESSAGE)
    return _wake_waiting(engine.key)


SUBMISSION_UNKNOWN_MESSAGE = (
    "We could not tell whether DashScope received this job. Submit it again "
    "(it may be counted twice), or leave it."
)


# --- Polling ------------------------------------------------------------------------------------

def _deadline_passed(job: InpaintJob) -> bool:
    started = job.submitted_at or job.created_at
    return timezone.now() - started > datetime.timedelta(seconds=settings.INPAINT_JOB_DEADLINE)


def job_poll(job: InpaintJob, token: str) -> Steps:
    """One status query of the job's remote task, and what follows from the answer."""
    if not _current(job, token) or job.status not in (Status.SUBMITTED, Status.RUNNING):
        return []
    with _leased(job):
        return _poll_once(job, engine_get(job.engine))


def _poll_once(job: InpaintJob, engine: Engine) -> Steps:
    if _deadline_passed(job):
        _give_up(job, engine)
        return _remote_ended(job)
    try:
        state = engine.poll(job.remote_task_id)
    except DashScopeError as error:
        if error.transient:
            _wait(job, _waiting_reason(error), poll_errors=F("poll_errors") + 1)
            return _next(job, "poll", max(settings.INPAINT_POLL_INTERVAL, retry_delay(job.poll_errors + 1)))
        job_fail(job, code=error.code, message=error_message_for(error.code, error.message))
        return _remote_ended(job)
    _record_remote_state(job, state)
    if not state.ended:
        if state.status == TaskStatus.RUNNING:
            _transition(job, from_statuses=[Status.SUBMITTED], status=Status.RUNNING, started_at=timezone.now())
        return _next(job, "poll", settings.INPAINT_POLL_INTERVAL)
    # The next waiting job is sent before this one's images download, so the slot never idles.
    steps_dispatch(_remote_ended(job))
    if state.status == TaskStatus.SUCCEEDED:
        return _store_or_retry(job, state)
    if state.status == TaskStatus.CANCELED:
        _transition(job, from_statuses=[Status.SUBMITTED, Status.RUNNING], status=Status.CANCELED,
                    finished_at=timezone.now(), waiting_reason="")
    else:
        code = state.code or state.status
        job_fail(job, code=code, message=error_message_for(code, state.message))
    return []


def _remote_ended(job: InpaintJob) -> Steps:
    """The remote task no longer runs: free its slot at once and wake the next waiting job."""
    if InpaintJob.objects.filter(pk=job.pk, remote_ended_at__isnull=True).update(remote_ended_at=timezone.now()):
        return _wake_waiting(job.engine)
    return []


def _record_remote_state(job: InpaintJob, state: TaskState) -> None:
    # Once the task has ended, poll_errors goes on counting failed downloads so they back off.
    changes = {"waiting_reason": ""} if state.ended else {"poll_errors": 0, "waiting_reason": ""}
    for field, value in (("remote_submit_time", state.submit_time), ("remote_scheduled_time", state.scheduled_time),
                         ("remote_end_time", state.end_time), ("task_metrics", state.task_metrics),
                         ("image_count", state.image_count)):
        if value is not None:
            changes[field] = value
    InpaintJob.objects.filter(pk=job.pk).update(**changes)
    for field, value in changes.items():
        setattr(job, field, value)


def _store_or_retry(job: InpaintJob, state: TaskState) -> Steps:
    try:
        job_results_store(job, state)
    except DashScopeError:
        _wait(job, "Saving your images; the download will be tried again shortly.", poll_errors=F("poll_errors") + 1)
        return _next(job, "poll", retry_delay(job.poll_errors + 1))
    return []


def _give_up(job: InpaintJob, engine: Engine) -> None:
    minutes = settings.INPAINT_JOB_DEADLINE // 60
    if job.status == Status.SUBMITTED:
        try:
            engine.cancel(job.remote_task_id)
        except DashScopeError:
            pass  # It may already be running; it will simply not be collected.
    if job.results.exclude(image="").exists():
        _results_finish(job)
        return
    job_fail(job, code="Timeout",
             message=f"DashScope did not finish this job within {minutes} minutes. Try again later; "
                     "the service may be overloaded.")


# --- Recovery -------------------------------------------------------------------------------------

def jobs_sweep() -> Steps:
    """Pick up again every unfinished job whose next step is long overdue.

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
        steps += _rearm(job, action)
    return steps


# --- Results ------------------------------------------------------------------------------------

class ResultUnavailable(Exception):
    """A result link that will never work again (expired, deleted or not an image)."""


def _download_result(url: str) -> bytes:
    try:
        response = requests.get(url, timeout=settings.INPAINT_DOWNLOAD_TIMEOUT)
    except requests.RequestException as exc:
        raise DashScopeError(code="DownloadFailed", message=exc.__class__.__name__, transient=True) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise DashScopeError(code="DownloadFailed", message=f"HTTP {response.status_code}", transient=True)
    if response.status_code != 200:
        raise ResultUnavailable(f"HTTP {response.status_code}")
    if len(response.content) > MAX_RESULT_BYTES:
        raise ResultUnavailable("too large")
    return response.content


def _result_extension(content: bytes) -> str:
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
            return {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "BMP": "bmp"}[image.format]
    except Exception:  # noqa: BLE001 - anything that is not a readable picture
        raise ResultUnavailable("not a picture") from None


def job_results_store(job: InpaintJob, state: TaskState) -> None:
    """Save every finished image into media storage at once (the service deletes them after 24 h).

    Slots already stored are skipped, so a repeated call only fills the gaps. A transient
    download error is raised to be retried; a link that will never work marks its slot failed.
    """
    for slot, outcome in enumerate(state.results):
        result, _ = JobResult.objects.get_or_create(job=job, slot=slot)
        if result.image or result.error_code:
            continue
        _result_store(result, outcome)
    _results_finish(job)


def _result_store(result: JobResult, outcome: SlotResult) -> None:
    if outcome.failed or not (outcome.url or outcome.content):
        code = outcome.code or "NoImage"
        result.error_code, result.error_message = code[:80], error_message_for(code, outcome.message)[:500]
        result.save(update_fields=["error_code", "error_message"])
        return
    try:
        content = outcome.content or _download_result(outcome.url)
        extension = _result_extension(content)
    except ResultUnavailable:
        result.error_code = "ResultExpired"
        result.error_message = ("This image could not be saved: DashScope's link to it no longer works. "
                                "Run the job again to get a new one.")
        result.save(update_fields=["error_code", "error_message"])
        return
    if result.job.base_alpha:
        content, extension = _transparency_restored(result.job, content), "png"
    result.image.save(f"result.{extension}", ContentFile(content), save=True)


def _transparency_restored(job: InpaintJob, content: bytes) -> bytes:
    with job.base_alpha.open("rb") as alpha, job.mask_image.open("rb") as mask:
        return images.with_transparency(content, alpha_png=alpha.read(), solid_png=mask.read())


def job_picture(job: InpaintJob) -> tuple[bytes, str]:
    """The job's picture as the person gave it: (content, extension). A transparent picture
    is stored flattened for the engines; it is shown and reused with its transparency."""
    with job.base_image.open("rb") as base:
        content = base.read()
    if not job.base_alpha:
        return content, job.base_image.name.rsplit(".", 1)[-1]
    with job.base_alpha.open("rb") as alpha:
        return images.with_transparency(content, alpha_png=alpha.read()), "png"


def _results_finish(job: InpaintJob) -> None:
    """End the job: SUCCEEDED if any image was stored, FAILED with the slots' reason otherwise."""
    stored = job.results.exclude(image="")
    now = timezone.now()
    if stored.exists():
        _transition(job, from_statuses=[Status.SUBMITTED, Status.RUNNING], status=Status.SUCCEEDED,
                    finished_at=now, waiting_reason="", image_count=job.image_count or stored.count())
        return
    first_failure = job.results.exclude(error_code="").first()
    job_fail(job, code=first_failure.error_code if first_failure else "NoImage",
             message=first_failure.error_message if first_failure else "The service returned no image. Try again.")


# --- Cancelling and estimates -----------------------------------------------------------------------

def job_cancel(job: InpaintJob) -> None:
    """Cancel a job that has not started painting; raises JobActionRefused with the reason otherwise."""
    if job.status == Status.QUEUED:
        if _transition(job, from_statuses=[Status.QUEUED], extra_filter=Q(submit_claimed_at__isnull=True),
                       status=Status.CANCELED, finished_at=timezone.now(), waiting_reason=""):
            return
        raise JobActionRefused("The job is being sent right now; try again in a moment.")
    if job.status == Status.SUBMITTED:
        try:
            engine_get(job.engine).cancel(job.remote_task_id)
        except DashScopeError as error:
            raise JobActionRefused("It has started painting and can no longer be stopped." if not error.transient
                                   else "DashScope did not answer; try again in a moment.") from None
        if _transition(job, from_statuses=[Status.SUBMITTED], status=Status.CANCELED, finished_at=timezone.now()):
            steps_dispatch(_remote_ended(job))
        return
    if job.status == Status.RUNNING:
        raise JobActionRefused("It has started painting and can no longer be stopped.")
    raise JobActionRefused("The job has already ended.")


def steps_dispatch(steps: Steps) -> None:
    """Hand steps to Celery once the current transaction (if any) has committed."""
    for step in steps:
        task = STEP_TASKS[step.action]
        transaction.on_commit(lambda task=task, step=step: task.apply_async((step.job_id, step.token),
                                                                            countdown=step.countdown))


def job_estimate_seconds(engine_key: str) -> float | None:
    """Mean time from sending to stored results over the engine's last ten successful jobs."""
    recent = (InpaintJob.objects.filter(engine=engine_key, status=Status.SUCCEEDED, finished_at__isnull=False,
                                        submitted_at__isnull=False).order_by("-finished_at")[:10])
    durations = [(job.finished_at - job.submitted_at).total_seconds() for job in recent]
    return sum(durations) / len(durations) if durations else None


# --- Usage ----------------------------------------------------------------------------------------

def _month_start() -> datetime.datetime:
    return timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _cloud_engine_keys() -> list[str]:
    return [key for key, engine in all_engines().items() if engine.remote]


def usage_images_this_month(*, jobs: QuerySet[InpaintJob] | None = None) -> int:
    """Images billed (usage.image_count) by cloud jobs created this month."""
    jobs = InpaintJob.objects.all() if jobs is None else jobs
    return jobs.filter(engine__in=_cloud_engine_keys(), created_at__gte=_month_start()).aggregate(
        total=Sum("image_count"))["total"] or 0


def usage_cap_check(engine: Engine, n: int) -> None:
    """Refuse a new cloud job before any call when it could take the month past INPAINT_MONTHLY_IMAGE_CAP."""
    cap = settings.INPAINT_MONTHLY_IMAGE_CAP
    if not cap or not engine.remote:
        return
    reserved = InpaintJob.objects.filter(IN_FLIGHT, engine__in=_cloud_engine_keys()).aggregate(total=Sum("n"))["total"] or 0
    if usage_images_this_month() + reserved + n > cap:
        raise JobActionRefused(
            f"This month's limit of {cap} cloud images has been reached. Use the offline engine, "
            "or ask the administrator to raise the limit.")


# --- Links the cloud service can fetch ---------------------------------------------------------------

def media_link_create(name: str) -> str:
    """A signed URL under INPAINT_PUBLIC_BASE_URL that serves one stored file until INPAINT_LINK_TTL passes."""
    token = signing.dumps(name, salt=MEDIA_LINK_SALT)
    filename = name.rsplit("/", 1)[-1]
    return settings.INPAINT_PUBLIC_BASE_URL + reverse("inpaint:media-link", args=[token, filename])


def media_link_resolve(token: str) -> str | None:
    try:
        return signing.loads(token, salt=MEDIA_LINK_SALT, max_age=settings.INPAINT_LINK_TTL)
    except signing.BadSignature:
        return None


# --- Messages in plain words ------------------------------------------------------------------------

_ADMIN_KEY = "The server's DashScope key is missing or wrong; ask the administrator."
_ADMIN_BILLING = ("The DashScope account has no free quota or credit left for this model; ask the administrator, "
                  "or use the offline engine.")
_CONTENT_CHECK = "DashScope's content check refused the picture or the prompt. Change the prompt or use another picture."
_CANNOT_FETCH = ("DashScope could not download the picture from this server. Ask the administrator to check "
                 "the app's public address setting, or to leave it empty so temporary storage is used.")
ERROR_MESSAGES = {
    "InvalidApiKey": _ADMIN_KEY,
    "Arrearage": _ADMIN_BILLING,
    "PrepaidBillOverdue": _ADMIN_BILLING,
    "PostpaidBillOverdue": _ADMIN_BILLING,
    "CommodityNotPurchased": _ADMIN_BILLING,
    "AllocationQuota.FreeTierOnly": _ADMIN_BILLING,
    "Throttling.AllocationQuota": _ADMIN_BILLING,
    "AccessDenied.Unpurchased": _ADMIN_BILLING,
    "AccessDenied": "The server's DashScope account may not use this model; ask the administrator.",
    "Model.AccessDenied": "The server's DashScope account may not use this model; ask the administrator.",
    "Workspace.AccessDenied": "The server's DashScope key belongs to another workspace; ask the administrator.",
    "ModelNotFound": "This model is not offered in the DashScope region the server uses; ask the administrator.",
    "DataInspectionFailed": _CONTENT_CHECK,
    "InternalError.Algo.DataInspectionFailed": _CONTENT_CHECK,
    "IPInfringementSuspect": "DashScope suspects the picture or prompt infringes someone's rights. Use another picture or prompt.",
    "BadRequest.InputDownloadFailed": _CANNOT_FETCH,
    "InvalidParameter.DataInspection": _CANNOT_FETCH,
    "InvalidURL": _CANNOT_FETCH,
    "BadRequest.UnsupportedFileFormat": "DashScope could not read the picture's format. Save it as JPEG or PNG and try again.",
    "BadRequest.TooLarge": "The picture is too large for DashScope. Use a smaller picture.",
    "InternalError.Timeout": "DashScope ran out of time on this image. Run the job again.",
    "UNKNOWN": "DashScope no longer knows this job (it keeps jobs for 24 hours). Run it again.",
}


def error_message_for(code: str, message: str) -> str:
    """What a non-technical person can do about an error DashScope reported."""
    if code in ERROR_MESSAGES:
        return ERROR_MESSAGES[code]
    if code.startswith("InvalidParameter"):
        return f"DashScope refused the request ({message.rstrip('.')}). Change the picture, mask or settings and try again."
    if code.startswith("InternalError") or code in ("SystemError", "ModelUnavailable"):
        return "DashScope had an internal problem with this job. Run it again in a minute."
    return f"DashScope could not paint this picture ({code or 'no reason given'}). Try again; if it keeps failing, ask the administrator."

