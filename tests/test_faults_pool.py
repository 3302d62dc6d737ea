"""No wedged worker, on any broker: every pool process of both of `make run`'s workers killed with SIGKILL at
once, as the OOM killer does, first in the middle of an offline fill and a paid call, then while they wait for
work. Each time the workers go on taking tasks from both queues and the interrupted steps run again, on the
embedded filesystem broker and on Redis, under the real supervisor."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.live import TEST_API_KEY, wait_for
from tests.supervised import (Browser, broker_url, jobs_all_succeeded, jobs_list, log_text, pools_back, pools_kill,
                              post_slow_fill, supervisor_start_ready, supervisor_stop,
                              var_dir)  # broker_url, var_dir: fixtures

pytestmark = pytest.mark.integration

CLOUD = "wanx-x-painting"
# The step of a killed process runs again within about lease + grace + sweep interval (12 s with the
# documented defaults); this bound leaves room for a loaded machine.
RERUN_BOUND_S = 30


def _seconds_after(moment: datetime.datetime, stamp: str) -> float:
    return (datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.timezone.utc) - moment).total_seconds()


def test_every_pool_process_killed_at_once_stops_no_worker(var_dir, dashscope, broker_url):
    dashscope.running_seconds = 0.5
    # The first paid call is still waiting for its answer in a steps pool process when the pools are killed.
    dashscope.hang_next_create_answers(1, seconds=60)
    supervisor, url = supervisor_start_ready(var_dir, CELERY_BROKER_URL=broker_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                                             DASHSCOPE_BASE_URL=dashscope.base_url)
    try:
        for index in range(2):
            Browser(url).post_job(CLOUD, f"in flight at the kill {index}")
        wait_for(lambda: dashscope.creates_accepted == 1, timeout=30, message="the first paid call")
        post_slow_fill(url)
        wait_for(lambda: any(job["status"] == "RUNNING" for job in jobs_list(var_dir)), timeout=30, interval=0.05,
                 message="the fill to start")

        killed_at, killed = pools_kill(supervisor)
        [fill] = [job for job in jobs_list(var_dir) if job["engine"] == "offline"]
        assert fill["status"] == "RUNNING", "the fill ended before the kill: the test would prove nothing"
        assert not any(job["remote_task_id"] for job in jobs_list(var_dir)), "the paid call was answered before the kill"
        # Work that arrives after the kill, on both queues.
        Browser(url).post_job()
        Browser(url).post_job(CLOUD, "after the kill")
        jobs = jobs_all_succeeded(var_dir, 5)
        first_task = next(iter(dashscope.tasks))
        [held] = [job for job in jobs if job["remote_task_id"] == first_task]
        fill = next(job for job in jobs if job["engine"] == "offline")  # the one killed mid-fill
        cloud = [job for job in jobs if job["engine"] == CLOUD]
        assert dashscope.creates_accepted == len(cloud) == len({job["remote_task_id"] for job in cloud}), \
            "a job was paid for twice"
        figures = {"fill_ran_again_s": round(_seconds_after(killed_at, fill["started_at"]), 1),
                   "held_paid_call_settled_s": round(_seconds_after(killed_at, held["submitted_at"]), 1)}
        assert all(0 < seconds <= RERUN_BOUND_S for seconds in figures.values()), figures

        # Killed again while every pool process waits for work: both queues are still served.
        pools_back(supervisor, killed)
        idle_killed_at, _ = pools_kill(supervisor)
        Browser(url).post_job()
        Browser(url).post_job(CLOUD, "after the idle kill")
        jobs = jobs_all_succeeded(var_dir, 7)
        figures["idle_kill_to_both_done_s"] = round(max(_seconds_after(idle_killed_at, job["finished_at"])
                                                        for job in jobs[-2:]), 1)
        assert dashscope.creates_accepted == len(cloud) + 1
        print(json.dumps({"broker": broker_url.split(":")[0], **figures}))
    except AssertionError:
        print(log_text(var_dir)[-20000:])
        raise
    finally:
        supervisor_stop(supervisor)
