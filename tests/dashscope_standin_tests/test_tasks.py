"""The stand-in's tasks (tests/dashscope_standin/tasks.py): rate limits and the running limit, the query shape at
each status, cancel and list."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.dashscope_standin import MSG_RATE_LIMITED, MSG_SLOT_TIMEOUT, format_task_time
from tests.dashscope_standin_tests.standin_calls import (
    TIME_PATTERN,
    assert_error,
    auth_headers,
    create,
    create_task,
    imageedit_body,
    painting_body,
    query,
    wait_for_status,
)


# ------------------------------------------------------------------ rate limits and scheduling


def test_burst_of_three_creates_in_one_second_is_throttled(ds, http, inputs):
    responses = [create(ds, http, painting_body(inputs)) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert_error(responses[2], 429, "Throttling.RateQuota", MSG_RATE_LIMITED)
    assert (ds.creates_accepted, ds.throttled) == (2, 1)
    # the limit is per model
    assert create(ds, http, imageedit_body(inputs)).status_code == 200
    # and a sliding one-second window
    time.sleep(max(0.0, ds.requests[0].time + 1.05 - time.time()))
    assert create(ds, http, painting_body(inputs)).status_code == 200


def test_concurrency_one_keeps_the_second_task_pending_until_the_first_ends(ds, http, inputs):
    first = create_task(ds, http, painting_body(inputs))
    second = create_task(ds, http, painting_body(inputs))

    assert query(ds, http, second).json()["output"]["task_status"] == "PENDING"
    wait_for_status(ds, first, "RUNNING", "SUCCEEDED")
    assert ds.tasks[second].status == "PENDING"
    wait_for_status(ds, second, "SUCCEEDED")

    (start_1, end_1, id_1), (start_2, end_2, id_2) = ds.running_timeline
    assert (id_1, id_2) == (first, second)
    assert start_2 == end_1  # the freed slot is taken at that very instant
    assert end_1 - start_1 >= 0.2 and end_2 - start_2 >= 0.2
    assert start_1 == ds.tasks[first].created_at  # an idle slot takes a task at once


def test_imageedit_runs_two_tasks_at_once(ds, http, edit_inputs):
    task_ids = [create_task(ds, http, imageedit_body(edit_inputs)) for _ in range(2)]
    for task_id in task_ids:
        wait_for_status(ds, task_id, "SUCCEEDED")
    (start_1, end_1, _), (start_2, _, _) = ds.running_timeline
    assert start_2 < end_1


def test_pending_seconds_delays_the_start(ds, http, inputs):
    ds.pending_seconds = 0.15
    task_id = create_task(ds, http, painting_body(inputs))
    task = wait_for_status(ds, task_id, "SUCCEEDED")
    assert task.started_at == pytest.approx(task.created_at + 0.15, abs=1e-6)


def test_query_rate_limit(ds, http, inputs):
    ds.query_qps = 3
    task_id = create_task(ds, http, painting_body(inputs))
    statuses = [query(ds, http, task_id).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert_error(query(ds, http, task_id), 429, "Throttling.RateQuota", MSG_RATE_LIMITED)
    assert ds.throttled == 2


# ------------------------------------------------------------------ query shapes


def test_query_shape_at_each_status(ds, http, inputs):
    ds.pending_seconds = 0.3
    ds.running_seconds = 0.3
    task_id = create_task(ds, http, painting_body(inputs, n=2))

    pending = query(ds, http, task_id).json()
    assert set(pending) == {"request_id", "output"}
    assert set(pending["output"]) == {"task_id", "task_status", "submit_time", "task_metrics"}
    assert pending["output"]["task_status"] == "PENDING"
    assert pending["output"]["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 0, "FAILED": 0}

    wait_for_status(ds, task_id, "RUNNING")
    running = query(ds, http, task_id).json()
    assert set(running["output"]) == {"task_id", "task_status", "submit_time", "scheduled_time", "task_metrics"}
    assert running["output"]["task_status"] == "RUNNING"

    wait_for_status(ds, task_id, "SUCCEEDED")
    done = query(ds, http, task_id).json()
    assert set(done) == {"request_id", "output", "usage"}
    output = done["output"]
    assert set(output) == {
        "task_id",
        "task_status",
        "submit_time",
        "scheduled_time",
        "end_time",
        "results",
        "task_metrics",
    }
    assert output["task_id"] == task_id and output["task_status"] == "SUCCEEDED"
    assert output["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0}
    assert [set(result) for result in output["results"]] == [{"url"}, {"url"}]
    assert done["usage"] == {"image_count": 2}

    task = ds.tasks[task_id]
    instants = {"submit_time": task.created_at, "scheduled_time": task.started_at, "end_time": task.ended_at}
    for name, instant in instants.items():
        assert TIME_PATTERN.match(output[name]), output[name]
        assert output[name] == format_task_time(instant)
    submitted = datetime.strptime(output["submit_time"], "%Y-%m-%d %H:%M:%S.%f")
    ended = datetime.strptime(output["end_time"], "%Y-%m-%d %H:%M:%S.%f")
    assert (ended - submitted).total_seconds() == pytest.approx(0.6, abs=0.1)


def test_china_standard_time_is_used_for_task_times():
    assert format_task_time(0) == "1970-01-01 08:00:00.000"
    assert format_task_time(1.2345) == "1970-01-01 08:00:01.234"


def test_partial_failure_shape_and_image_count(ds, http, inputs):
    ds.fail_slots = {1: ("InternalError.Timeout", MSG_SLOT_TIMEOUT)}
    task_id = create_task(ds, http, painting_body(inputs, n=3))
    wait_for_status(ds, task_id, "SUCCEEDED")

    body = query(ds, http, task_id).json()
    results = body["output"]["results"]
    assert set(results[0]) == {"url"} and set(results[2]) == {"url"}
    assert results[1] == {"code": "InternalError.Timeout", "message": MSG_SLOT_TIMEOUT}
    assert body["output"]["task_metrics"] == {"TOTAL": 3, "SUCCEEDED": 2, "FAILED": 1}
    assert body["usage"] == {"image_count": 2}
    assert "code" not in body["output"]


def test_task_fails_when_every_slot_fails(ds, http, inputs):
    ds.fail_slots = {0: ("InternalError.Timeout", MSG_SLOT_TIMEOUT)}
    task_id = create_task(ds, http, painting_body(inputs, n=1))
    wait_for_status(ds, task_id, "FAILED")

    body = query(ds, http, task_id).json()
    assert body["output"]["code"] == "InternalError.Timeout"
    assert body["output"]["task_metrics"] == {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 1}
    assert "usage" not in body


def test_failed_task_shape(ds, http, inputs):
    ds.fail_next_tasks(1, code="DataInspectionFailed", message="Input data may contain inappropriate content.")
    failing = create_task(ds, http, painting_body(inputs, n=2))
    wait_for_status(ds, failing, "FAILED")

    response = query(ds, http, failing)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"request_id", "output"}
    assert body["output"] == {
        "task_id": failing,
        "task_status": "FAILED",
        "submit_time": body["output"]["submit_time"],
        "scheduled_time": body["output"]["scheduled_time"],
        "end_time": body["output"]["end_time"],
        "task_metrics": {"TOTAL": 2, "SUCCEEDED": 0, "FAILED": 2},
        "code": "DataInspectionFailed",
        "message": "Input data may contain inappropriate content.",
    }
    # consumed: the next task is fine
    healthy = create_task(ds, http, painting_body(inputs))
    assert wait_for_status(ds, healthy, "SUCCEEDED", "FAILED").status == "SUCCEEDED"


def test_unknown_task_id(ds, http):
    response = query(ds, http, "0385dc79-5ff8-4d82-bcb6-000000000000")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"request_id", "output"}
    assert body["output"] == {"task_id": "0385dc79-5ff8-4d82-bcb6-000000000000", "task_status": "UNKNOWN"}


def test_query_requires_the_api_key(ds, http):
    assert_error(http.get(f"{ds.base_url}/tasks/x"), 401, "InvalidApiKey", "No API-key provided.")


# ------------------------------------------------------------------ cancel and list


def test_cancel_pending_is_accepted_and_running_is_refused(ds, http, inputs):
    running = create_task(ds, http, painting_body(inputs))
    pending = create_task(ds, http, painting_body(inputs))
    wait_for_status(ds, running, "RUNNING")

    cancelled = http.post(f"{ds.base_url}/tasks/{pending}/cancel", headers=auth_headers())
    assert cancelled.status_code == 200
    assert set(cancelled.json()) == {"request_id"}
    refused = http.post(f"{ds.base_url}/tasks/{running}/cancel", headers=auth_headers())
    assert_error(refused, 400, "UnsupportedOperation", "The operation is unsupported on the referee object.")
    assert_error(http.post(f"{ds.base_url}/tasks/nope/cancel", headers=auth_headers()), 400, "UnsupportedOperation")

    output = query(ds, http, pending).json()["output"]
    assert output["task_status"] == "CANCELED"
    assert TIME_PATTERN.match(output["end_time"])
    wait_for_status(ds, running, "SUCCEEDED")
    assert [task_id for _, _, task_id in ds.running_timeline] == [running]


def test_list_tasks(ds, http, inputs, edit_inputs):
    ds.fail_next_tasks(1)
    failed = create_task(ds, http, painting_body(inputs))
    edit = create_task(ds, http, imageedit_body(edit_inputs))
    wait_for_status(ds, failed, "FAILED")
    wait_for_status(ds, edit, "SUCCEEDED")

    url = f"{ds.base_url}/tasks"
    page = http.get(url, params={"page_no": 1, "page_size": 1}, headers=auth_headers()).json()
    assert set(page) == {"request_id", "data", "total", "total_page", "page_no", "page_size"}
    assert (page["total"], page["total_page"], page["page_no"], page["page_size"]) == (2, 2, 1, 1)
    item = page["data"][0]
    assert item["task_id"] == edit  # newest first
    assert item["model_name"] == "wanx2.1-imageedit"
    assert item["request_id"] == ds.tasks[edit].request_id
    assert item["gmt_create"] == int(ds.tasks[edit].created_at * 1000)
    assert {"task_id", "status", "model_name", "request_id", "gmt_create"} <= set(item)

    by_model = http.get(url, params={"model_name": "wanx-x-painting"}, headers=auth_headers()).json()
    assert [i["task_id"] for i in by_model["data"]] == [failed]
    by_status = http.get(url, params={"status": "FAILED"}, headers=auth_headers()).json()
    assert [i["task_id"] for i in by_status["data"]] == [failed]
    future = http.get(url, params={"start_time": "29990101000000"}, headers=auth_headers()).json()
    assert future["total"] == 0 and future["data"] == []
    bad_time = http.get(url, params={"start_time": "yesterday"}, headers=auth_headers())
    assert_error(bad_time, 400, "InvalidParameter")
