"""A room on one laptop, under `make run` with no PostgreSQL: 24 phones behind one address, each with its own
cookies, post 2 cloud jobs each at once against the stand-in with wanx-x-painting's limits (2 submissions a
second, 1 running task), and every pool process of both workers is killed mid-burst. Every job is accepted and
finishes, each paid once, and the first 24 tasks sent come from at least 22 different people. On the embedded
filesystem broker, which is what the laptop runs: every pool process killed on Redis is tests/test_faults_pool.py's."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import TEST_API_KEY, wait_for
from tests.supervised import (Browser, jobs_all_succeeded, log_text, pools_kill, supervisor_start_ready, supervisor_stop,
                              var_dir)  # var_dir: a fixture

pytestmark = pytest.mark.integration

PEOPLE = 24
JOBS_EACH = 2
# Distinct people among the first PEOPLE tasks sent: everyone's first job goes before anyone's second.
FIRST_ROUND_PEOPLE = 22
KILL_AFTER_TASKS = 8
TASK_SECONDS = 0.5
# The first task holds the account's one running slot until every post is in, so that the order of the
# rest is the app's choice alone and not the order the posts happened to arrive in.
HELD_TASK_SECONDS = 600


def _person_posts(url: str, person: int) -> None:
    browser = Browser(url)  # the page first, for the session and CSRF cookies, as a phone would
    for job in range(JOBS_EACH):
        browser.post_job("wanx-x-painting", f"person {person} job {job}")


def test_a_room_of_24_on_one_address_gets_every_job_done_once_through_killed_pools(var_dir, dashscope):
    dashscope.running_seconds = HELD_TASK_SECONDS
    supervisor, url = supervisor_start_ready(var_dir, CELERY_BROKER_URL="filesystem://",
                                             DASHSCOPE_API_KEY=TEST_API_KEY, DASHSCOPE_BASE_URL=dashscope.base_url)
    try:
        with ThreadPoolExecutor(max_workers=PEOPLE) as room:
            for post in [room.submit(_person_posts, url, person) for person in range(PEOPLE)]:
                post.result()  # every post was accepted (Browser.post_job checks the answer)
        [held] = wait_for(lambda: list(dashscope.tasks.values()), timeout=30, message="the first task")
        dashscope.running_seconds = held.running_seconds = TASK_SECONDS
        wait_for(lambda: dashscope.creates_accepted >= KILL_AFTER_TASKS, timeout=120,
                 message=f"{KILL_AFTER_TASKS} tasks to be sent")
        pools_kill(supervisor)

        jobs = jobs_all_succeeded(var_dir, PEOPLE * JOBS_EACH, timeout=300)
        owners = {job["remote_task_id"]: job["owner_key"] for job in jobs}
        assert len(owners) == len(jobs) == dashscope.creates_accepted, "a job was paid for twice"
        assert len(set(owners.values())) == PEOPLE
        sent = [owners[task] for task in dashscope.tasks]
        # For each task sent, in order: which of its person's jobs it was (1: their first, 2: their second).
        nth = [sent[:index + 1].count(owner) for index, owner in enumerate(sent)]
        first_round = set(sent[:PEOPLE])
        print(json.dumps({"people_in_first_24_tasks": len(first_round),
                          "throttled": dashscope.throttled}))
        assert len(first_round) >= FIRST_ROUND_PEOPLE, f"each task's place among its person's jobs: {nth}"
    except AssertionError:
        print(log_text(var_dir)[-20000:])
        raise
    finally:
        supervisor_stop(supervisor)
