"""Unit tests for inpaint.services: the job lifecycle with a faked cloud engine and Celery calls recorded."""

from __future__ import annotations

import datetime
import io
import threading
import time
import uuid

import pytest
from django.core import signing
from django.utils import timezone
from PIL import Image

from inpaint import services
from inpaint.engines import engine_get
from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.engines.dashscope import DashScopeError
from inpaint.images import PreparedImage
from inpaint.models import EngineGate, InpaintJob, JobResult
from inpaint.tasks import STEP_TASKS, job_submit_task
from tests.pictures import mask, picture

pytestmark = pytest.mark.django_db

CLOUD = "wanx-x-painting"
Status = InpaintJob.Status


def png(width: int = 64, height: int = 64) -> bytes:
    return png_of(Image.new("RGB", (width, height), (10, 200, 30)))


def png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class FakeCloud:
    """Stands in for the cloud engine's network calls: answers are queued, calls recorded."""

    def __init__(self):
        self.submitted: list = []
        self.polled: list[str] = []
        self.canceled: list[str] = []
        self.listed: list[dict] = []
        self.submit_answer: TaskState | DashScopeError = TaskState(
            status=TaskStatus.PENDING, task_id="task-1", request_id="req-1")
        self.poll_answer: TaskState | DashScopeError = TaskState(status=TaskStatus.PENDING, task_id="task-1")
        self.cancel_error: DashScopeError | None = None
        self.tasks: list[dict] = []
        self.while_submitting = lambda: None  # runs inside the submit call, as a slow network would


    @staticmethod
    def _answer(answer):
        if isinstance(answer, Exception):
            raise answer
        return answer

    def submit(self, job_input):
        self.submitted.append(job_input)
        self.while_submitting()
        return self._answer(self.submit_answer)

    def poll(self, task_id):
        self.polled.append(task_id)
        return self._answer(self.poll_answer)

    def cancel(self, task_id):
        self.canceled.append(task_id)
        if self.cancel_error:
            raise self.cancel_error

    def list_tasks(self, *, start, end):
        self.listed.append({"start": start, "end": end})
        return self.tasks


@pytest.fixture(autouse=True)
def cloud_settings(settings):
    settings.DASHSCOPE_API_KEY = "sk-unit-test"
    settings.INPAINT_PUBLIC_BASE_URL = ""
    settings.INPAINT_SUBMIT_RATES = {}
    settings.INPAINT_RUNNING_LIMITS = {}
    settings.INPAINT_MONTHLY_IMAGE_CAP = 0
    settings.INPAINT_POLL_INTERVAL = 1.0
    settings.INPAINT_ADMISSION_RECHECK = 5.0
    settings.INPAINT_JOB_DEADLINE = 900
    settings.INPAINT_SWEEP_GRACE = 60.0
    return settings


@pytest.fixture
def cloud(monkeypatch) -> FakeCloud:
    fake = FakeCloud()
    engine = engine_get(CLOUD)
    for name in ("submit", "poll", "cancel", "list_tasks"):
        monkeypatch.setattr(engine, name, getattr(fake, name))
    return fake


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[tuple]:
    """Every Celery call the code makes, as (task name, job id, token, countdown); nothing reaches a broker."""
    calls: list[tuple] = []
    for action, task in STEP_TASKS.items():
        monkeypatch.setattr(task, "apply_async",
                            lambda args, countdown=0, action=action, **kw: calls.append((action, *args, countdown)))
    monkeypatch.setattr(job_submit_task, "delay", lambda *args: calls.append(("submit", *args, 0)))
    return calls


def make_job(engine: str = CLOUD, **fields) -> InpaintJob:
    base = PreparedImage(picture(320, 320), "jpg", 320, 320)
    job = services.job_create(user=None, session_key="session-a", engine=engine_get(engine), prompt="a red boat",
                              style="<auto>", size="1024*1024", n=1, mask_color=[], base=base,
                              mask_png=mask(320, 320), seed=7)
    if fields:
        InpaintJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


def submitted_job(**fields) -> InpaintJob:
    now = timezone.now()
    return make_job(**{"status": Status.SUBMITTED, "submit_claimed_at": now, "submitted_at": now,
                       "remote_task_id": f"task-{uuid.uuid4().hex[:8]}", **fields})


def submitted_job_from(job: InpaintJob) -> InpaintJob:
    now = timezone.now()
    InpaintJob.objects.filter(pk=job.pk).update(status=Status.SUBMITTED, submit_claimed_at=now, submitted_at=now,
                                                remote_task_id="task-alpha")
    return reload(job)


def reload(job: InpaintJob) -> InpaintJob:
    return InpaintJob.objects.get(pk=job.pk)


def poll_with(cloud: FakeCloud, job: InpaintJob, state: TaskState | DashScopeError) -> list:
    cloud.poll_answer = state
    return services.job_poll(job, job.step_token)


def failed_slot_job(cloud, monkeypatch, response) -> InpaintJob:
    monkeypatch.setattr(services.requests, "get", lambda url, timeout: response)
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(url="https://oss.example/r.png")]))
    return job


class FakeResponse:
    def __init__(self, status_code: int, content: bytes = b""):
        self.status_code = status_code
        self.content = content


# --- job_create -----------------------------------------------------------------------------------

def test_job_create_stores_files_under_the_job_folder():
    job = make_job()
    assert job.base_image.name == f"jobs/{job.pk}/base.jpg"
    assert job.mask_image.name == f"jobs/{job.pk}/mask.png"
    with job.mask_image.open("rb") as stored:
        assert stored.read() == mask(320, 320)


def test_job_create_starts_queued_with_a_step_token():
    job = reload(make_job())
    assert job.status == Status.QUEUED
    assert job.step_token
    assert job.step_due_at is not None


def test_job_create_enqueues_the_submit_task_on_commit(django_capture_on_commit_callbacks, enqueued):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = make_job()
    assert enqueued == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert enqueued == [("submit", str(job.pk), job.step_token, 0)]


# --- job_submit -----------------------------------------------------------------------------------

def test_job_submit_success_records_the_remote_task(cloud):
    job = make_job()
    steps = services.job_submit(job, job.step_token)
    job = reload(job)
    assert job.status == Status.SUBMITTED
    assert (job.remote_task_id, job.remote_request_id) == ("task-1", "req-1")
    assert job.submitted_at is not None
    assert steps == [services.Step("poll", str(job.pk), job.step_token, 1.0)]


def test_job_submit_twice_with_the_same_token_submits_once(cloud):
    job = make_job()
    token = job.step_token
    services.job_submit(job, token)
    second = services.job_submit(reload(job), token)
    assert second == []
    assert len(cloud.submitted) == 1


def test_job_submit_from_a_stale_copy_submits_once(cloud, settings):
    settings.INPAINT_RUNNING_LIMITS = {CLOUD: "5"}
    job = make_job()
    stale_copy = reload(job)
    services.job_submit(job, job.step_token)
    assert services.job_submit(stale_copy, stale_copy.step_token) == []
    assert len(cloud.submitted) == 1
    assert reload(job).submit_attempts == 1


def test_job_submit_with_a_stale_token_does_nothing(cloud):
    job = make_job()
    assert services.job_submit(job, "not-the-token") == []
    job = reload(job)
    assert cloud.submitted == []
    assert job.status == Status.QUEUED
    assert job.submit_claimed_at is None


def test_job_submit_transient_error_releases_the_claim_and_retries(cloud):
    cloud.submit_answer = DashScopeError(code="SystemError", message="busy", http_status=503, transient=True)
    job = make_job()
    steps = services.job_submit(job, job.step_token)
    job = reload(job)
    assert job.status == Status.QUEUED
    assert job.submit_claimed_at is None
    assert job.waiting_reason
    assert [step.action for step in steps] == ["submit"]
    assert steps[0].countdown > 0
    assert steps[0].token == job.step_token


def test_job_submit_throttled_pauses_the_engine_gate(cloud):
    cloud.submit_answer = DashScopeError(code="Throttling", message="Requests throttled", http_status=429,
                                         transient=True)
    job = make_job()
    steps = services.job_submit(job, job.step_token)
    gate = EngineGate.objects.get(engine=CLOUD)
    assert gate.paused_until > timezone.now()
    assert reload(job).waiting_reason == "DashScope is busy right now; your job will be sent as soon as it has room."
    assert steps[0].action == "submit"


def test_job_submit_while_throttled_waits_without_calling_the_engine(cloud):
    cloud.submit_answer = DashScopeError(code="Throttling", message="Requests throttled", http_status=429,
                                         transient=True)
    first = make_job()
    services.job_submit(first, first.step_token)
    other = make_job()
    steps = services.job_submit(other, other.step_token)
    assert len(cloud.submitted) == 1
    assert [step.action for step in steps] == ["submit"]
    assert steps[0].countdown > 0
    assert reload(other).submit_claimed_at is None


def test_job_submit_permanent_error_fails_the_job(cloud):
    cloud.submit_answer = DashScopeError(code="InvalidApiKey", message="Invalid API-key provided.", http_status=401)
    job = make_job()
    assert services.job_submit(job, job.step_token) == []
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_code == "InvalidApiKey"
    assert job.error_message == "The server's DashScope key is missing or wrong; ask the administrator."


def test_job_submit_maybe_created_reconciles_and_keeps_the_claim(cloud):
    cloud.submit_answer = DashScopeError(code="ReadTimeout", message="no answer", transient=True, maybe_created=True)
    job = make_job()
    steps = services.job_submit(job, job.step_token)
    job = reload(job)
    assert [step.action for step in steps] == ["reconcile"]
    assert steps[0].countdown == services.RECONCILE_LIST_DELAY
    assert job.submit_claimed_at is not None
    assert job.status == Status.QUEUED


def test_job_submit_of_a_claimed_job_reconciles_instead_of_submitting(cloud):
    job = make_job(submit_claimed_at=timezone.now())
    steps = services.job_submit(job, job.step_token)
    assert [step.action for step in steps] == ["reconcile"]
    assert cloud.submitted == []


def test_job_submit_without_a_key_fails_before_calling(cloud, settings):
    settings.DASHSCOPE_API_KEY = ""
    job = make_job()
    services.job_submit(job, job.step_token)
    assert reload(job).status == Status.FAILED
    assert cloud.submitted == []


# --- Admission ------------------------------------------------------------------------------------

def test_admission_second_job_waits_while_the_first_holds_the_slot(cloud):
    first = make_job()
    services.job_submit(first, first.step_token)
    second = make_job()
    steps = services.job_submit(second, second.step_token)
    assert len(cloud.submitted) == 1
    assert steps == [services.Step("submit", str(second.pk), reload(second).step_token, 5.0)]
    assert reload(second).submit_claimed_at is None


def test_admission_is_first_come_first_served(cloud):
    older = make_job(created_at=timezone.now() - datetime.timedelta(seconds=30))
    younger = make_job()
    steps = services.job_submit(younger, younger.step_token)
    assert cloud.submitted == []
    assert [(step.action, step.countdown) for step in steps] == [("submit", 5.0)]
    assert services.job_submit(older, older.step_token)[0].action == "poll"


def test_admission_rate_limit_delays_a_second_submit_in_the_same_second(cloud, settings):
    settings.INPAINT_SUBMIT_RATES = {CLOUD: "1"}
    settings.INPAINT_RUNNING_LIMITS = {CLOUD: "5"}
    first, second = make_job(), make_job()
    services.job_submit(first, first.step_token)
    steps = services.job_submit(second, second.step_token)
    assert len(cloud.submitted) == 1
    assert [step.action for step in steps] == ["submit"]
    # Until the first submission leaves the one-second window, plus a 10 ms margin.
    assert 0 < steps[0].countdown <= 1.01


def test_admission_rate_limit_allows_the_configured_rate(cloud, settings):
    settings.INPAINT_SUBMIT_RATES = {CLOUD: "2"}
    settings.INPAINT_RUNNING_LIMITS = {CLOUD: "5"}
    first, second = make_job(), make_job()
    services.job_submit(first, first.step_token)
    services.job_submit(second, second.step_token)
    assert len(cloud.submitted) == 2


def scheduled_after_poll(job, cloud, state, django_capture_on_commit_callbacks, enqueued) -> list[tuple]:
    """Steps job_poll returns plus those it hands to Celery itself, as (action, job id, countdown)."""
    with django_capture_on_commit_callbacks(execute=True):
        steps = poll_with(cloud, job, state)
    return [(step.action, step.job_id, step.countdown) for step in steps] + [
        (action, job_id, countdown) for action, job_id, _token, countdown in enqueued]


@pytest.mark.parametrize("state", [
    TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=png())]),
    TaskState(status=TaskStatus.FAILED, code="InternalError.Algo", message="boom"),
])
def test_admission_remote_end_wakes_the_oldest_waiting_job(cloud, state, django_capture_on_commit_callbacks,
                                                            enqueued):
    running = submitted_job(created_at=timezone.now() - datetime.timedelta(minutes=2))
    oldest = make_job(created_at=timezone.now() - datetime.timedelta(minutes=1))
    make_job()
    scheduled = scheduled_after_poll(running, cloud, state, django_capture_on_commit_callbacks, enqueued)
    assert ("submit", str(oldest.pk), 0.0) in scheduled
    assert reload(running).remote_ended_at is not None


def test_admission_woken_job_is_admitted_at_once(cloud, django_capture_on_commit_callbacks, enqueued):
    running = submitted_job(created_at=timezone.now() - datetime.timedelta(minutes=2))
    waiting = make_job()
    scheduled_after_poll(running, cloud, TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=png())]),
                         django_capture_on_commit_callbacks, enqueued)
    waiting = reload(waiting)
    assert services.job_submit(waiting, waiting.step_token)[0].action == "poll"
    assert len(cloud.submitted) == 1


def test_job_queue_position_counts_waiting_jobs_ahead(cloud):
    now = timezone.now()
    submitted_job(created_at=now - datetime.timedelta(minutes=5))
    make_job(created_at=now - datetime.timedelta(minutes=3))
    make_job(created_at=now - datetime.timedelta(minutes=2))
    mine = make_job(created_at=now - datetime.timedelta(minutes=1))
    make_job()
    assert services.job_queue_position(mine) == 2


def test_job_queue_position_is_none_for_a_submitted_job(cloud):
    assert services.job_queue_position(submitted_job()) is None


# --- job_poll -------------------------------------------------------------------------------------

def test_job_poll_pending_polls_again(cloud):
    job = submitted_job()
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.PENDING))
    assert cloud.polled == [job.remote_task_id]
    assert steps == [services.Step("poll", str(job.pk), reload(job).step_token, 1.0)]
    assert reload(job).status == Status.SUBMITTED


def test_job_poll_running_marks_the_job_running(cloud):
    job = submitted_job()
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.RUNNING))
    job = reload(job)
    assert job.status == Status.RUNNING
    assert job.started_at is not None
    assert [step.action for step in steps] == ["poll"]


def test_job_poll_with_a_stale_token_does_nothing(cloud):
    job = submitted_job()
    assert services.job_poll(job, "old-token") == []
    assert cloud.polled == []


def test_job_poll_succeeded_stores_the_results(cloud):
    job = submitted_job(status=Status.RUNNING)
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, image_count=2,
                                            results=[SlotResult(content=png()), SlotResult(content=png(32, 32))]))
    job = reload(job)
    assert job.status == Status.SUCCEEDED
    assert job.image_count == 2
    assert job.finished_at is not None
    assert [r.image.name for r in job.results.all()] == [f"jobs/{job.pk}/result-0.png", f"jobs/{job.pk}/result-1.png"]
    with job.results.get(slot=1).image.open("rb") as stored:
        assert stored.read() == png(32, 32)
    assert steps == []


def test_results_of_a_transparent_picture_get_its_transparency_back(cloud):
    base = PreparedImage(picture(320, 320), "jpg", 320, 320,
                         alpha=png_of(Image.new("L", (320, 320), 0)))  # wholly transparent
    job = services.job_create(user=None, session_key="s", engine=engine_get(CLOUD), prompt="a kite", style="<auto>",
                              size="1024*1024", n=1, mask_color=[], base=base, mask_png=mask(320, 320), seed=1)
    job = submitted_job_from(job)
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=png())]))

    [result] = reload(job).results.all()
    assert result.image.name.endswith(".png")
    with result.image.open("rb") as stored:
        alpha = Image.open(stored).getchannel("A")
        # The mask's centre quarter was painted, so it is solid; the rest stays transparent.
        assert alpha.getpixel((32, 32)) == 255 and alpha.getpixel((2, 2)) == 0


def test_job_poll_partial_failure_succeeds_with_a_failed_slot(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[
        SlotResult(content=png()), SlotResult(code="DataInspectionFailed", message="Output data may contain...")]))
    job = reload(job)
    failed = job.results.get(slot=1)
    assert job.status == Status.SUCCEEDED
    assert failed.image.name == ""
    assert failed.error_code == "DataInspectionFailed"
    assert failed.error_message == services.ERROR_MESSAGES["DataInspectionFailed"]


def test_job_poll_all_slots_failed_fails_the_job(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[
        SlotResult(code="InternalError.Algo", message="x"), SlotResult(code="InternalError.Algo", message="y")]))
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_code == "InternalError.Algo"
    assert job.error_message == "DashScope had an internal problem with this job. Run it again in a minute."


def test_job_poll_failed_content_check_gives_a_plain_message(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.FAILED, code="DataInspectionFailed",
                                    message="Input data may contain inappropriate content."))
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == ("DashScope's content check refused the picture or the prompt. "
                                 "Change the prompt or use another picture.")


def test_job_poll_canceled_cancels_the_job(cloud):
    job = submitted_job()
    assert poll_with(cloud, job, TaskState(status=TaskStatus.CANCELED)) == []
    job = reload(job)
    assert job.status == Status.CANCELED
    assert job.finished_at is not None


def test_job_poll_unknown_fails_the_job(cloud):
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.UNKNOWN))
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_message == services.ERROR_MESSAGES["UNKNOWN"]


def test_job_poll_transient_error_keeps_polling(cloud):
    job = submitted_job()
    steps = poll_with(cloud, job, DashScopeError(code="ReadTimeout", message="slow", transient=True))
    job = reload(job)
    assert job.status == Status.SUBMITTED
    assert job.waiting_reason == "DashScope did not answer properly; trying again shortly."
    assert job.poll_errors == 1
    assert [step.action for step in steps] == ["poll"]
    assert steps[0].countdown >= 1.0


def test_job_poll_after_the_deadline_fails_the_job(cloud, settings):
    settings.INPAINT_JOB_DEADLINE = 60
    job = submitted_job(submitted_at=timezone.now() - datetime.timedelta(minutes=2))
    poll_with(cloud, job, TaskState(status=TaskStatus.PENDING))
    job = reload(job)
    assert job.status == Status.FAILED
    assert "did not finish" in job.error_message
    assert cloud.polled == []
    assert cloud.canceled == [job.remote_task_id]


# --- Result downloads -----------------------------------------------------------------------------

def test_result_download_uses_a_timeout(cloud, monkeypatch, settings):
    calls = []
    monkeypatch.setattr(services.requests, "get", lambda url, timeout: calls.append((url, timeout))
                        or FakeResponse(200, png()))
    job = submitted_job()
    poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(url="https://oss.example/a.png")]))
    assert calls == [("https://oss.example/a.png", settings.INPAINT_DOWNLOAD_TIMEOUT)]
    assert reload(job).status == Status.SUCCEEDED


def test_result_download_forbidden_marks_the_slot_expired(cloud, monkeypatch):
    job = failed_slot_job(cloud, monkeypatch, FakeResponse(403, b"<Error>AccessDenied</Error>"))
    result = JobResult.objects.get(job=job, slot=0)
    assert result.error_code == "ResultExpired"
    assert result.error_message.startswith("This image could not be saved")
    assert reload(job).status == Status.FAILED


def test_result_download_server_error_is_retried(cloud, monkeypatch):
    monkeypatch.setattr(services.requests, "get", lambda url, timeout: FakeResponse(500))
    job = submitted_job()
    steps = poll_with(cloud, job, TaskState(status=TaskStatus.SUCCEEDED,
                                            results=[SlotResult(url="https://oss.example/a.png")]))
    job = reload(job)
    assert job.status == Status.SUBMITTED
    assert job.waiting_reason
    assert ("poll", str(job.pk)) in [(step.action, step.job_id) for step in steps]
    assert JobResult.objects.get(job=job, slot=0).error_code == ""


def test_result_download_server_errors_back_off(cloud, monkeypatch, settings):
    settings.INPAINT_RETRY_BASE_DELAY = 1.0
    settings.INPAINT_RETRY_MAX_DELAY = 60.0
    monkeypatch.setattr(services.requests, "get", lambda url, timeout: FakeResponse(503))
    job = submitted_job()
    state = TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(url="https://oss.example/a.png")])
    for _ in range(3):
        steps = poll_with(cloud, reload(job), state)
    # The third failure in a row waits 2-4 s (exponential back-off), not the first retry's 0.5-1 s.
    assert [step.action for step in steps] == ["poll"]
    assert steps[0].countdown >= 2.0


def test_result_download_not_an_image_fails_the_slot(cloud, monkeypatch):
    job = failed_slot_job(cloud, monkeypatch, FakeResponse(200, b"<html>not a picture</html>"))
    result = JobResult.objects.get(job=job, slot=0)
    assert result.error_code
    assert result.image.name == ""


# --- job_reconcile --------------------------------------------------------------------------------

def claimed_job(**fields) -> InpaintJob:
    return make_job(submit_claimed_at=timezone.now() - datetime.timedelta(seconds=2), submit_attempts=1, **fields)


def listed_task(task_id: str, created: datetime.datetime | None = None) -> dict:
    created = created or timezone.now() - datetime.timedelta(seconds=1)
    return {"task_id": task_id, "request_id": f"req-{task_id}", "gmt_create": int(created.timestamp() * 1000)}


def test_job_reconcile_with_no_task_sends_again(cloud):
    job = claimed_job()
    steps = services.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.submit_claimed_at is None
    assert job.status == Status.QUEUED
    assert [step.action for step in steps] == ["submit"]
    assert cloud.submitted == []


def test_job_reconcile_ignores_tasks_outside_the_window(cloud):
    cloud.tasks = [listed_task("old-task", timezone.now() - datetime.timedelta(hours=1))]
    job = claimed_job()
    steps = services.job_reconcile(job, job.step_token)
    assert [step.action for step in steps] == ["submit"]
    assert reload(job).remote_task_id == ""


def test_job_reconcile_adopts_the_one_unowned_task(cloud):
    cloud.tasks = [listed_task("orphan-1")]
    job = claimed_job()
    steps = services.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.status == Status.SUBMITTED
    assert (job.remote_task_id, job.remote_request_id) == ("orphan-1", "req-orphan-1")
    assert [step.action for step in steps] == ["poll"]
    assert cloud.submitted == []


def test_job_reconcile_skips_tasks_other_jobs_own(cloud):
    owner = submitted_job(remote_task_id="owned-1")
    cloud.tasks = [listed_task("owned-1")]
    job = claimed_job()
    services.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.remote_task_id == ""
    assert reload(owner).remote_task_id == "owned-1"


def test_job_reconcile_two_unowned_tasks_fails_the_job(cloud):
    cloud.tasks = [listed_task("orphan-1"), listed_task("orphan-2")]
    job = claimed_job()
    services.job_reconcile(job, job.step_token)
    job = reload(job)
    assert job.status == Status.FAILED
    assert job.error_code == "SubmissionUnknown"
    assert job.error_message == ("We could not tell whether DashScope received this job. Submit it again "
                                 "(it may be counted twice), or leave it.")
    assert cloud.submitted == []


def test_job_reconcile_with_a_stale_token_does_nothing(cloud):
    cloud.tasks = [listed_task("orphan-1")]
    job = claimed_job()
    assert services.job_reconcile(job, "old-token") == []
    assert cloud.listed == []


# --- jobs_sweep -----------------------------------------------------------------------------------

def overdue() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=120)


@pytest.mark.parametrize(("fields", "action"), [
    ({"status": Status.SUBMITTED, "remote_task_id": "task-9"}, "poll"),
    ({"submit_claimed_at": timezone.now()}, "reconcile"),
    ({}, "submit"),
])
def test_jobs_sweep_reschedules_an_overdue_job(fields, action):
    job = make_job(step_due_at=overdue(), **fields)
    steps = services.jobs_sweep()
    fresh = reload(job)
    assert fresh.step_token != job.step_token
    assert steps == [services.Step(action, str(job.pk), fresh.step_token, 0.0)]


def test_jobs_sweep_leaves_a_job_that_is_not_overdue():
    job = make_job(step_due_at=timezone.now() - datetime.timedelta(seconds=30))
    assert services.jobs_sweep() == []
    assert reload(job).step_token == job.step_token


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.FAILED, Status.CANCELED])
def test_jobs_sweep_ignores_final_jobs(status):
    make_job(status=status, step_due_at=overdue())
    assert services.jobs_sweep() == []


def test_jobs_sweep_makes_the_lost_step_a_no_op(cloud):
    job = make_job(step_due_at=overdue())
    old_token = job.step_token
    services.jobs_sweep()
    assert services.job_submit(reload(job), old_token) == []
    assert cloud.submitted == []


# --- leases on slow steps --------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the lease is renewed from another thread, on its own connection
def test_a_paid_call_longer_than_the_lease_is_not_taken_for_lost(cloud, settings):
    settings.INPAINT_STEP_LEASE = 0.6
    settings.INPAINT_SWEEP_GRACE = 0.0
    job = make_job()
    sweeps_during_the_call = []

    def slow_network():
        time.sleep(1.8)  # three leases long
        sweeps_during_the_call.append(services.jobs_sweep())

    cloud.while_submitting = slow_network
    steps = services.job_submit(job, job.step_token)

    assert sweeps_during_the_call == [[]]
    assert [step.action for step in steps] == ["poll"]
    assert len(cloud.submitted) == 1


@pytest.mark.django_db(transaction=True)
def test_the_lease_stops_with_its_step(cloud, settings):
    settings.INPAINT_STEP_LEASE = 0.3
    job = make_job()
    cloud.while_submitting = lambda: time.sleep(0.5)
    services.job_submit(job, job.step_token)
    due_after_the_step = reload(job).step_due_at

    time.sleep(0.5)  # longer than one renewal period
    assert reload(job).step_due_at == due_after_the_step
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("lease-")]


# --- job_cancel -----------------------------------------------------------------------------------

def test_job_cancel_queued_job():
    job = make_job()
    services.job_cancel(job)
    job = reload(job)
    assert job.status == Status.CANCELED
    assert job.finished_at is not None


def test_job_cancel_claimed_job_is_refused():
    job = claimed_job()
    with pytest.raises(services.JobActionRefused, match="being sent right now"):
        services.job_cancel(job)
    assert reload(job).status == Status.QUEUED


def test_job_cancel_submitted_job_cancels_the_remote_task(cloud):
    job = submitted_job()
    services.job_cancel(job)
    assert cloud.canceled == [job.remote_task_id]
    assert reload(job).status == Status.CANCELED


def test_job_cancel_running_job_is_refused(cloud):
    job = submitted_job(status=Status.RUNNING)
    with pytest.raises(services.JobActionRefused, match="can no longer be stopped"):
        services.job_cancel(job)
    assert cloud.canceled == []
    assert reload(job).status == Status.RUNNING


def test_job_cancel_refused_by_the_service(cloud):
    cloud.cancel_error = DashScopeError(code="UnsupportedOperation", message="task is running", http_status=400)
    job = submitted_job()
    with pytest.raises(services.JobActionRefused, match="can no longer be stopped"):
        services.job_cancel(job)
    assert reload(job).status == Status.SUBMITTED


def test_job_cancel_final_job_is_refused():
    job = make_job(status=Status.SUCCEEDED)
    with pytest.raises(services.JobActionRefused, match="already ended"):
        services.job_cancel(job)


# --- Signed media links ---------------------------------------------------------------------------

def link_token(url: str) -> str:
    return url.split("/links/", 1)[1].split("/", 1)[0]


def test_media_link_round_trip(settings):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    url = services.media_link_create("jobs/abc/base.jpg")
    assert url.startswith("https://studio.example/links/")
    assert url.endswith("/base.jpg")
    assert services.media_link_resolve(link_token(url)) == "jobs/abc/base.jpg"


def test_media_link_tampered_token_is_refused(settings):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    token = link_token(services.media_link_create("jobs/abc/base.jpg"))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert services.media_link_resolve(tampered) is None


def test_media_link_expired_token_is_refused(settings, monkeypatch):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    settings.INPAINT_LINK_TTL = 3600
    two_hours_ago = signing.b62_encode(int(timezone.now().timestamp()) - 7200)
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: two_hours_ago)
        token = link_token(services.media_link_create("jobs/abc/base.jpg"))
    assert services.media_link_resolve(token) is None


# --- Usage and the monthly cap --------------------------------------------------------------------

def test_usage_images_this_month_counts_cloud_jobs_of_this_month():
    make_job(status=Status.SUCCEEDED, image_count=2)
    make_job(engine="wanx2.1-imageedit", status=Status.SUCCEEDED, image_count=3)
    make_job(engine="offline", status=Status.SUCCEEDED, image_count=4)
    make_job(status=Status.SUCCEEDED, image_count=5, created_at=services._month_start() - datetime.timedelta(days=1))
    assert services.usage_images_this_month() == 5


def test_usage_cap_check_refuses_a_job_past_the_cap(settings, cloud):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(status=Status.SUCCEEDED, image_count=2)
    with pytest.raises(services.JobActionRefused, match="This month's limit of 3 cloud images has been reached"):
        services.usage_cap_check(engine_get(CLOUD), 2)
    assert cloud.submitted == []


def test_usage_cap_check_allows_a_job_within_the_cap(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(status=Status.SUCCEEDED, image_count=2)
    services.usage_cap_check(engine_get(CLOUD), 1)


def test_usage_cap_check_counts_jobs_in_flight(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 3
    make_job(n=3)
    with pytest.raises(services.JobActionRefused):
        services.usage_cap_check(engine_get(CLOUD), 1)


def test_usage_cap_check_never_refuses_the_offline_engine(settings):
    settings.INPAINT_MONTHLY_IMAGE_CAP = 1
    make_job(status=Status.SUCCEEDED, image_count=5)
    services.usage_cap_check(engine_get("offline"), 4)


# --- Messages -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("InvalidApiKey", "The server's DashScope key is missing or wrong; ask the administrator."),
    ("Arrearage", "The DashScope account has no free quota or credit left for this model; ask the administrator, "
                  "or use the offline engine."),
    ("DataInspectionFailed", "DashScope's content check refused the picture or the prompt. "
                             "Change the prompt or use another picture."),
])
def test_error_message_for_known_codes(code, expected):
    assert services.error_message_for(code, "raw service text") == expected


def test_error_message_for_invalid_parameter_includes_the_service_message():
    message = services.error_message_for("InvalidParameter", "size must be one of 1024*1024, 720*1280.")
    assert "(size must be one of 1024*1024, 720*1280)" in message
    assert message.endswith("Change the picture, mask or settings and try again.")


def test_error_message_for_an_unknown_code_names_it():
    message = services.error_message_for("Weird.NewCode", "???")
    assert "Weird.NewCode" in message
    assert "ask the administrator" in message
