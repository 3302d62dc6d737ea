"""The stand-in's facade (tests/dashscope_standin/server.py and __main__.py): fault injection on creates, queries
and runs, unknown routes, and the command line."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.dashscope_standin import MSG_INTERNAL_ERROR
from tests.dashscope_standin_tests.standin_calls import (
    assert_error,
    auth_headers,
    create,
    create_headers,
    create_task,
    painting_body,
    query,
    wait_for_status,
)

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


# ------------------------------------------------------------------ fault injection


def test_fail_next_creates(ds, http, inputs):
    ds.fail_next_creates(1)
    ds.fail_next_creates(1, status=503, code="ModelUnavailable", message="Model is unavailable, try again later.")

    assert_error(create(ds, http, painting_body(inputs)), 500, "InternalError", MSG_INTERNAL_ERROR)
    assert_error(create(ds, http, painting_body(inputs)), 503, "ModelUnavailable")
    assert ds.creates_accepted == 0
    assert create(ds, http, painting_body(inputs)).status_code == 200


def test_fail_next_queries(ds, http, inputs):
    task_id = create_task(ds, http, painting_body(inputs))
    ds.fail_next_queries(1)
    ds.fail_next_queries(1, status=500, code="InternalError")

    gateway = query(ds, http, task_id)
    assert gateway.status_code == 502
    with pytest.raises(ValueError):
        gateway.json()
    assert_error(query(ds, http, task_id), 500, "InternalError", MSG_INTERNAL_ERROR)
    assert query(ds, http, task_id).status_code == 200


def test_hang_next_queries(ds, http, inputs):
    task_id = create_task(ds, http, painting_body(inputs))
    ds.hang_next_queries(1, 0.5)

    with pytest.raises(requests.exceptions.ReadTimeout):
        query(ds, http, task_id, timeout=0.2)
    started = time.time()
    assert query(ds, http, task_id, timeout=2).status_code == 200
    assert time.time() - started < 0.2


def test_hang_next_create_answers_creates_the_task_before_answering(ds, http, inputs):
    ds.hang_next_create_answers(1, 0.5)
    url = f"{ds.base_url}/services/aigc/image2image/image-synthesis"

    with pytest.raises(requests.exceptions.ReadTimeout):
        http.post(url, json=painting_body(inputs), headers=create_headers(), timeout=0.2)
    assert ds.creates_accepted == 1
    assert len(ds.tasks) == 1
    started = time.time()
    create_task(ds, http, painting_body(inputs))
    assert time.time() - started < 0.2


def test_fail_creates_always_until_stopped(ds, http, inputs):
    ds.fail_creates_always(status=503, code="ModelUnavailable", message="Model is unavailable, please try again later.")
    ds.fail_next_creates(1)  # a queued error goes first

    assert_error(create(ds, http, painting_body(inputs)), 500, "InternalError")
    for _ in range(5):
        assert_error(create(ds, http, painting_body(inputs)), 503, "ModelUnavailable")
    assert ds.creates_accepted == 0 and ds.tasks == {}

    ds.stop_failing_creates()
    create_task(ds, http, painting_body(inputs))
    assert ds.creates_accepted == 1


def test_suspend_next_tasks_pauses_a_run_and_keeps_its_slot(ds, http, inputs):
    ds.suspend_next_tasks(1, seconds=0.4, after=0.1)
    paused = create_task(ds, http, painting_body(inputs))
    waiting = create_task(ds, http, painting_body(inputs))

    wait_for_status(ds, paused, "SUSPENDED")
    output = query(ds, http, paused).json()["output"]
    assert output["task_status"] == "SUSPENDED"
    assert {"scheduled_time", "submit_time"} <= set(output) and "end_time" not in output
    assert ds.tasks[waiting].status == "PENDING"  # the suspended task still holds the only running slot

    task = wait_for_status(ds, paused, "SUCCEEDED")
    assert task.suspended_at - task.started_at == pytest.approx(0.1, abs=1e-6)
    assert task.resumed_at - task.suspended_at == pytest.approx(0.4, abs=1e-6)
    assert task.ended_at - task.started_at >= 0.6 - 1e-6  # running_seconds 0.2 plus the pause
    assert wait_for_status(ds, waiting, "SUCCEEDED").suspended_at is None


def test_suspend_task_now_or_as_it_starts(ds, http, inputs):
    ds.running_seconds = 0.3
    running = create_task(ds, http, painting_body(inputs))
    pending = create_task(ds, http, painting_body(inputs))
    wait_for_status(ds, running, "RUNNING")

    ds.suspend_task(running, 0.2)
    assert ds.tasks[running].status == "SUSPENDED"
    ds.suspend_task(pending, 0.2)
    assert ds.tasks[pending].status == "PENDING"
    with pytest.raises(ValueError):
        ds.suspend_task(running, 1.0)  # one pause a task

    task = wait_for_status(ds, pending, "SUSPENDED", timeout=5)
    assert task.suspended_at == task.started_at
    assert wait_for_status(ds, pending, "SUCCEEDED").ended_at - task.started_at >= 0.5
    with pytest.raises(ValueError):
        ds.suspend_task(pending, 1.0)  # ended


def test_unknown_route_is_404_json(ds, http):
    assert_error(http.get(f"{ds.base_url}/nowhere", headers=auth_headers()), 404, "NotFound")


def test_cli_serves_on_the_given_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dashscope_standin", "--port", str(port), "--key", "sk-demo"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"http://127.0.0.1:{port}/api/v1" in process.stdout.readline()
        session = requests.Session()
        session.trust_env = False
        response = session.get(f"http://127.0.0.1:{port}/api/v1/tasks/x", headers={"Authorization": "Bearer sk-demo"})
        assert response.json()["output"]["task_status"] == "UNKNOWN"
    finally:
        process.terminate()
        process.wait(timeout=5)
