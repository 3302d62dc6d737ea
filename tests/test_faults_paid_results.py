"""Paid results are never dropped, crashes cost seconds, and the key never reaches a log: through a
real worker process on Redis, the real web server and the DashScope stand-in."""

from __future__ import annotations

import os
import signal
import time

import pytest

from inpaint.models import InpaintJob
from tests.live import (TEST_API_KEY, Visitor, assert_each_paid_once, cloud_worker, connected_to, wait_all_final,
                        wait_for)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("running_seconds", [1.0, 10.0], ids=["ends-during-the-pause", "still-running-after-it"])
def test_a_task_that_succeeds_while_the_worker_is_paused_past_the_deadline_keeps_its_images(
        live_server, dashscope, standin_settings, start_worker, running_seconds):
    # Either the task ends while the worker is stopped, or the worker wakes to a task still RUNNING past the
    # deadline (what a poll answered just before the pause looks like): a running task is billed, so both
    # cases must end with its images, whichever way the pause falls.
    dashscope.running_seconds = running_seconds
    worker = cloud_worker(start_worker, dashscope, live_server, INPAINT_JOB_DEADLINE="3",
                          INPAINT_LATE_POLL_INTERVAL="1")
    Visitor(live_server).post_job("paid for, then a long pause")
    wait_for(lambda: InpaintJob.objects.filter(status__in=["SUBMITTED", "RUNNING"]).exists(), timeout=30,
             message="the job to be sent")
    os.killpg(worker.process.pid, signal.SIGSTOP)  # an outage longer than the deadline
    try:
        time.sleep(6)
    finally:
        os.killpg(worker.process.pid, signal.SIGCONT)

    [job] = wait_all_final(1, timeout=60)
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    assert job.image_count == 1
    assert job.results.exclude(image="").count() == 1
    assert_each_paid_once([job], dashscope)


def test_a_create_call_that_keeps_failing_gives_up_at_the_submit_deadline_with_nothing_billed(
        live_server, dashscope, standin_settings, start_worker):
    dashscope.fail_next_creates(10_000, status=500)
    cloud_worker(start_worker, dashscope, live_server, INPAINT_SUBMIT_DEADLINE="4")
    Visitor(live_server).post_job("the service is down")

    [job] = wait_all_final(1, timeout=60)
    assert job.status == InpaintJob.Status.FAILED
    assert job.error_code == "SubmitDeadline"
    assert "Nothing was billed" in job.error_message
    assert dashscope.creates_accepted == 0 and not job.image_count


def test_a_pool_process_killed_while_it_holds_a_submit_costs_seconds_and_no_second_payment(
        live_server, dashscope, standin_settings, start_worker):
    dashscope.running_seconds = 0.5
    dashscope.hang_next_create_answers(1, seconds=30)
    # The documented defaults, not the suite's fast ones: the broker hands the step back at once.
    worker = cloud_worker(start_worker, dashscope, live_server, INPAINT_STEP_LEASE="6", INPAINT_SWEEP_GRACE="4",
                          INPAINT_SWEEP_INTERVAL="2")
    Visitor(live_server).post_job("the pool process dies mid-call")
    wait_for(lambda: dashscope.creates_accepted == 1, timeout=30, message="the paid call to reach the service")
    holder = wait_for(lambda: next((pid for pid in worker.pool_pids() if connected_to(pid, dashscope.port)), None),
                      timeout=10, message="the pool process holding the call")
    os.kill(holder, signal.SIGKILL)
    killed_at = time.monotonic()

    wait_for(lambda: InpaintJob.objects.filter(status__in=["SUBMITTED", "RUNNING", "SUCCEEDED"]).exists(),
             timeout=15, interval=0.1, message="the job to be reconciled within 15 s")
    recovered_in = time.monotonic() - killed_at
    [job] = wait_all_final(1, timeout=45)
    assert_each_paid_once([job], dashscope)
    assert recovered_in < 15, recovered_in


def test_a_key_with_a_trailing_newline_works_and_never_reaches_a_log(
        live_server, dashscope, standin_settings, start_worker, caplog):
    dashscope.fail_next_creates(2, status=500)
    dashscope.fail_next_queries(1, status=502)
    worker = cloud_worker(start_worker, dashscope, live_server, DASHSCOPE_API_KEY=TEST_API_KEY + "\n",
                          LOG_LEVEL="DEBUG")
    Visitor(live_server).post_job("a secret mounted from a file")

    [job] = wait_all_final(1, timeout=60)
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    assert TEST_API_KEY not in worker.log()
    assert TEST_API_KEY not in caplog.text
