"""A synchronous engine (Qwen-Image-Edit) through the submit, reconcile and scheduling services: admitted like a
cloud job, its one call made in the submit step and its answer stored there, its own queue and time limit, and at
most once: a call whose outcome was lost is in doubt and is never sent again by the app."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from inpaint.engines import engine_get
from inpaint.engines.base import SlotResult, TaskState, TaskStatus
from inpaint.engines.dashscope import DashScopeError
from inpaint.images import PreparedImage
from inpaint.services import jobs, recovery, results, scheduling, submission
from inpaint.services.refusals import JobActionRefused
from inpaint.services.downloads import DownloadFailed
from tests.pictures import picture
from tests.services.fakes import Status, make_job, reload

pytestmark = pytest.mark.django_db
QWEN = "qwen-image-edit-plus"
# The real one: the service tests' no_broker fixture replaces it.
STEP_SEND = scheduling.step_send


class FakeCall:
    """The engine's one call: records what was sent and answers with images of the size asked for, or raises."""

    def __init__(self):
        self.sent = []
        self.error: Exception | None = None
        self.links: list[str] = []
        self.answer_size = lambda size: size  # the size it answers with, for the size it was asked

    def __call__(self, job_input):
        self.sent.append(job_input)
        if self.error:
            raise self.error
        if self.links:
            return TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(url=url) for url in self.links])
        buffer = io.BytesIO()
        Image.new("RGB", self.answer_size(job_input.size), (0, 90, 255)).save(buffer, "PNG")
        return TaskState(status=TaskStatus.SUCCEEDED, request_id="req-sync", image_count=job_input.n,
                         results=[SlotResult(content=buffer.getvalue()) for _ in range(job_input.n)])


@pytest.fixture
def qwen_call(monkeypatch) -> FakeCall:
    call = FakeCall()
    monkeypatch.setattr(engine_get(QWEN), "submit", call)
    return call


def qwen_job(**fields):
    return make_job(QWEN, base=PreparedImage(picture(640, 640), "jpg", 640, 640), **fields)


def test_the_call_is_made_and_its_answer_stored_in_the_submit_step(qwen_call):
    job = qwen_job()

    submission.job_submit(job, job.step_token)

    job = reload(job)
    assert job.status == Status.SUCCEEDED, job.error_message
    assert len(qwen_call.sent) == 1 and job.remote_request_id == "req-sync" and not job.remote_task_id
    [result] = job.results.all()
    assert (result.width, result.height) == (640, 640)
    assert job.remote_ended_at is not None  # its running slot is free
    assert job.image_count == 1  # billed, as the answer's usage says


def test_the_size_sent_is_the_regions_in_multiples_of_16(qwen_call):
    job = qwen_job()

    submission.job_submit(job, job.step_token)

    width, height = qwen_call.sent[0].size
    assert width % 16 == 0 and height % 16 == 0 and 512 <= min(width, height)


def test_it_waits_for_the_accounts_running_limit_like_any_cloud_job(qwen_call, settings):
    settings.INPAINT_QWEN_RUNNING_LIMIT = 1
    qwen_job(submit_claimed_at="2026-01-01T00:00:00Z")  # another call in progress holds the one slot
    job = qwen_job()

    [step] = submission.job_submit(job, job.step_token)

    assert qwen_call.sent == [] and step.action == "submit" and step.countdown > 0


def test_a_call_that_may_have_been_billed_ends_in_doubt_and_frees_its_slot(qwen_call):
    qwen_call.error = DashScopeError(code="ReadTimeout", message="no answer", transient=True, maybe_created=True)
    job = qwen_job()

    submission.job_submit(job, job.step_token)

    job = reload(job)
    assert (job.status, job.error_code) == (Status.FAILED, "InDoubt")
    assert "Send again" in job.error_message and "billed twice" in job.error_message
    assert job.remote_ended_at is not None and len(qwen_call.sent) == 1


def test_during_the_call_the_job_is_painting_and_cannot_be_cancelled(qwen_call, monkeypatch):
    seen = []
    job = qwen_job()

    def watching(job_input):
        seen.append(reload(job).status)
        with pytest.raises(JobActionRefused, match="can no longer be stopped"):
            jobs.job_cancel(reload(job))
        return qwen_call(job_input)

    monkeypatch.setattr(engine_get(QWEN), "submit", watching)
    submission.job_submit(job, job.step_token)

    assert seen == [Status.RUNNING] and reload(job).status == Status.SUCCEEDED


def test_a_definite_server_error_is_retried_as_the_first_call(qwen_call):
    qwen_call.error = DashScopeError(code="InternalError", message="oops", http_status=500, transient=True)
    job = qwen_job()

    [step] = submission.job_submit(job, job.step_token)

    job = reload(job)
    assert job.status == Status.QUEUED and job.submit_claimed_at is None
    assert (step.action, step.queue) == ("submit", "edits")


def test_a_refused_call_fails_in_plain_words(qwen_call):
    qwen_call.error = DashScopeError(code="DataInspectionFailed", message="bad", http_status=400)
    job = qwen_job()

    submission.job_submit(job, job.step_token)

    job = reload(job)
    assert job.status == Status.FAILED and "content check" in job.error_message
    assert job.remote_ended_at is not None


def test_a_lost_call_is_in_doubt_and_never_sent_again(qwen_call, monkeypatch):
    """A worker killed in the call: its step comes back (the broker's redelivery, or the sweep) to a claimed job."""
    monkeypatch.setattr(engine_get(QWEN), "list_tasks", lambda **_: pytest.fail("a synchronous call has no task list"))
    job = qwen_job(submit_claimed_at="2026-01-01T00:00:00Z", submit_attempts=1)

    [step] = submission.job_submit(job, job.step_token)
    assert step.action == "reconcile"
    steps = recovery.job_reconcile(reload(job), step.token)

    job = reload(job)
    assert (job.status, job.error_code) == (Status.FAILED, "InDoubt")
    assert qwen_call.sent == [] and steps == [] and job.remote_ended_at is not None
    assert job.image_count == job.n  # the spend caps count what it may have cost


def test_the_sweep_sends_a_lost_call_to_reconcile_not_to_submit():
    job = qwen_job(submit_claimed_at="2026-01-01T00:00:00Z", step_due_at="2026-01-01T00:00:00Z")

    [step] = recovery.jobs_sweep()

    assert (step.job_id, step.action) == (str(job.pk), "reconcile")


def test_downloads_of_the_answer_are_retried_by_the_store_step_then_given_up(qwen_call, monkeypatch):
    qwen_call.links = ["https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1.png"]
    tries = []
    monkeypatch.setattr(results, "result_download", lambda url: tries.append(url) or (_ for _ in ()).throw(
        DownloadFailed("busy", status=503)))
    job = qwen_job()

    steps = submission.job_submit(job, job.step_token)
    while [step for step in steps if step.action == "store"]:
        [store] = [step for step in steps if step.action == "store"]
        assert store.countdown > 0, "tried again later, never by waiting in the worker"
        steps = results.job_answer_store(reload(job), store.token)

    job = reload(job)
    assert len(tries) == results.MAX_DOWNLOAD_TRIES and len(qwen_call.sent) == 1
    assert job.status == Status.FAILED and job.error_message == results.DOWNLOAD_GAVE_UP


def test_an_answer_kept_before_its_worker_stopped_is_stored_not_put_in_doubt(qwen_call, monkeypatch):
    qwen_call.links = ["https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1.png"]
    monkeypatch.setattr(submission, "job_results_store_or_retry", lambda *args: (_ for _ in ()).throw(
        SystemExit("the worker was killed while downloading")))
    job = qwen_job()
    with pytest.raises(SystemExit):
        submission.job_submit(job, job.step_token)
    monkeypatch.setattr(submission, "job_results_store_or_retry", results.job_results_store_or_retry)
    monkeypatch.setattr(results, "result_download", lambda url: picture(640, 640, fmt="PNG"))
    job = reload(job)

    [store] = recovery.job_reconcile(job, job.step_token)
    assert store.action == "store"
    results.job_answer_store(reload(job), store.token)

    job = reload(job)
    assert job.status == Status.SUCCEEDED and len(qwen_call.sent) == 1


def test_an_answer_of_a_close_shape_is_scaled_to_the_region_never_refused(qwen_call):
    # About 7 % off in aspect, as the model's answers are (reference section 11).
    qwen_call.answer_size = lambda size: (size[0] + 48, size[1] - 16)
    job = qwen_job()

    submission.job_submit(job, job.step_token)

    job = reload(job)
    assert job.status == Status.SUCCEEDED, job.error_message
    assert [(result.width, result.height) for result in job.results.all()] == [(640, 640)]


def test_an_answer_of_a_far_off_shape_is_refused_for_its_slot_in_plain_words(qwen_call):
    qwen_call.answer_size = lambda size: (size[0], size[1] * 3 // 4)
    job = qwen_job()

    submission.job_submit(job, job.step_token)

    [result] = reload(job).results.all()
    assert result.error_code == "ShapeRefused" and "another shape" in result.error_message
    assert "stretch your picture" in reload(job).error_message


def test_its_submit_step_has_its_own_queue():
    assert scheduling.step_first(qwen_job()).queue == "edits"
    assert scheduling.step_first(make_job("wanx2.1-imageedit")).queue is None
    assert scheduling.step_first(make_job("offline")).queue == "fills"


def test_its_step_may_run_as_long_as_its_call(monkeypatch, settings):
    sent = []
    monkeypatch.setattr(scheduling.current_app, "send_task", lambda name, **options: sent.append(options))

    STEP_SEND(scheduling.Step("submit", "job", "token", 0.0, "edits"))
    STEP_SEND(scheduling.Step("poll", "job", "token", 0.0, None))

    assert sent[0]["soft_time_limit"] > settings.INPAINT_QWEN_TIMEOUT
    assert sent[0]["time_limit"] > sent[0]["soft_time_limit"]
    assert "time_limit" not in sent[1]
