"""No wedged worker, on any broker: every pool process of both of `make run`'s workers killed with SIGKILL at
once, as the OOM killer does, first in the middle of an offline fill and a paid call, then while they wait for
work. Each time the workers go on taking tasks from both queues and the interrupted steps run again, on the
embedded filesystem broker and on Redis, under the real supervisor."""

from __future__ import annotations

import datetime
import json
import os
import signal

import pytest
import redis

from tests.conftest import TEST_API_KEY, wait_for
from tests.supervised import (Browser, alive, jobs_read, log_text, pool_pids, post_slow_fill, supervisor_start_ready,
                              supervisor_stop, var_dir)  # var_dir: a fixture

pytestmark = pytest.mark.integration

CLOUD = "wanx-x-painting"
# The step of a killed process runs again within about lease + grace + sweep interval (12 s with the
# documented defaults); this bound leaves room for a loaded machine.
RERUN_BOUND_S = 30
FINISH_TIMEOUT_S = 120


@pytest.fixture(params=["filesystem", "redis"])
def broker_url(request) -> str:
    if request.param == "filesystem":
        return "filesystem://"
    url = os.environ.get("CELERY_BROKER_URL", "")
    assert url.startswith("redis://"), "this test needs Redis: run it with `make test`"
    redis.Redis.from_url(url).flushdb()  # nothing left over from an earlier run
    return url


def _pools_kill(supervisor) -> tuple[datetime.datetime, list[int]]:
    """SIGKILL every pool process of both workers at once: (when, which)."""
    victims = pool_pids(supervisor, "steps") + pool_pids(supervisor, "fills")
    assert len(victims) == 3, victims  # steps --concurrency 2, fills --concurrency 1
    killed_at = datetime.datetime.now(datetime.timezone.utc)
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    for pid in victims:
        wait_for(lambda pid=pid: not alive(pid), timeout=5, interval=0.05, message=f"pool process {pid} to die")
    return killed_at, victims


def _pools_back(supervisor, killed: list[int]) -> None:
    def back():
        pools = pool_pids(supervisor, "steps") + pool_pids(supervisor, "fills")
        return len(pools) == 3 and not set(pools) & set(killed) and all(alive(pid) for pid in pools)

    wait_for(back, timeout=30, message="both workers' pools to be started again")


def _jobs(var_dir) -> list[dict]:
    columns = ("engine", "status", "error_code", "remote_task_id", "started_at", "submitted_at", "finished_at")
    return [dict(zip(columns, row)) for row in jobs_read(var_dir, *columns)]


def _all_succeeded(var_dir, count: int) -> list[dict]:
    def done():
        jobs = _jobs(var_dir)
        final = {"SUCCEEDED", "FAILED", "CANCELED"}
        return len(jobs) == count and all(job["status"] in final for job in jobs) and jobs

    jobs = wait_for(done, timeout=FINISH_TIMEOUT_S, interval=0.5,
                    message=f"{count} jobs to end: {[job['status'] for job in _jobs(var_dir)]}")
    assert all(job["status"] == "SUCCEEDED" for job in jobs), jobs
    return jobs


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
        wait_for(lambda: any(job["status"] == "RUNNING" for job in _jobs(var_dir)), timeout=30, interval=0.05,
                 message="the fill to start")

        killed_at, killed = _pools_kill(supervisor)
        [fill] = [job for job in _jobs(var_dir) if job["engine"] == "offline"]
        assert fill["status"] == "RUNNING", "the fill ended before the kill: the test would prove nothing"
        assert not any(job["remote_task_id"] for job in _jobs(var_dir)), "the paid call was answered before the kill"
        # Work that arrives after the kill, on both queues.
        Browser(url).post_job()
        Browser(url).post_job(CLOUD, "after the kill")
        jobs = _all_succeeded(var_dir, 5)
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
        _pools_back(supervisor, killed)
        idle_killed_at, _ = _pools_kill(supervisor)
        Browser(url).post_job()
        Browser(url).post_job(CLOUD, "after the idle kill")
        jobs = _all_succeeded(var_dir, 7)
        figures["idle_kill_to_both_done_s"] = round(max(_seconds_after(idle_killed_at, job["finished_at"])
                                                        for job in jobs[-2:]), 1)
        assert dashscope.creates_accepted == len(cloud) + 1
        print(json.dumps({"broker": broker_url.split(":")[0], **figures}))
    except AssertionError:
        print(log_text(var_dir)[-20000:])
        raise
    finally:
        supervisor_stop(supervisor)
