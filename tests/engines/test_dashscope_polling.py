"""The DashScope client's query_task against a fake session: each task state, its results, metrics and times."""

from __future__ import annotations

import datetime

from tests.engines.dashscope_session import API_KEY, BASE, SHANGHAI, TASK_ID, make_client, reply


# --- query_task ---------------------------------------------------------------------------


def query(body: dict):
    client, session = make_client(reply(200, body))
    return client.query_task(TASK_ID), session


def test_query_task_gets_task_url_with_authorization():
    _, session = query({"output": {"task_id": TASK_ID, "task_status": "PENDING"}})

    assert (session.calls[0].method, session.calls[0].url) == ("GET", f"{BASE}/tasks/{TASK_ID}")
    assert session.calls[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_query_task_parses_pending():
    state, _ = query({"request_id": "r1", "output": {"task_id": TASK_ID, "task_status": "PENDING",
                                                     "submit_time": "2024-11-01 09:50:56.081"}})

    assert (state.status, state.task_id, state.request_id, state.ended) == ("PENDING", TASK_ID, "r1", False)


def test_query_task_parses_running():
    state, _ = query({"request_id": "r1", "output": {"task_id": TASK_ID, "task_status": "RUNNING"}})

    assert (state.status, state.ended, state.results) == ("RUNNING", False, [])


SUCCEEDED_BODY = {
    "request_id": "85eaba38-0185-99d7-8d16-4d9135238846",
    "output": {
        "task_id": TASK_ID,
        "task_status": "SUCCEEDED",
        "results": [{"url": "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/123/a1.png"},
                    {"url": "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/123/b2.png"}],
        "submit_time": "2024-11-01 09:50:56.081",
        "scheduled_time": "2024-11-01 09:50:56.104",
        "end_time": "2024-11-01 09:51:22.740",
        "task_metrics": {"TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0},
    },
    "usage": {"image_count": 2},
}


def test_query_task_parses_succeeded_result_urls():
    state, _ = query(SUCCEEDED_BODY)

    assert (state.status, state.ended) == ("SUCCEEDED", True)
    assert [result.url for result in state.results] == [
        "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/123/a1.png",
        "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/123/b2.png",
    ]
    assert not any(result.failed for result in state.results)


def test_query_task_parses_task_metrics_and_image_count():
    state, _ = query(SUCCEEDED_BODY)

    assert state.task_metrics == {"TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0}
    assert state.image_count == 2


def test_query_task_parses_times_as_shanghai_time():
    state, _ = query(SUCCEEDED_BODY)

    assert state.submit_time == datetime.datetime(2024, 11, 1, 9, 50, 56, 81000, tzinfo=SHANGHAI)
    assert state.scheduled_time == datetime.datetime(2024, 11, 1, 9, 50, 56, 104000, tzinfo=SHANGHAI)
    assert state.end_time == datetime.datetime(2024, 11, 1, 1, 51, 22, 740000, tzinfo=datetime.UTC)
    assert state.end_time.utcoffset() == datetime.timedelta(hours=8)


def test_query_task_parses_partial_failure():
    state, _ = query({
        "request_id": "r",
        "output": {
            "task_id": TASK_ID, "task_status": "SUCCEEDED",
            "results": [{"url": "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/123/a1.png"},
                        {"code": "InternalError.Timeout", "message": "An internal timeout error has occured."}],
            "task_metrics": {"TOTAL": 2, "SUCCEEDED": 1, "FAILED": 1},
        },
        "usage": {"image_count": 1},
    })

    assert state.status == "SUCCEEDED"
    assert [result.failed for result in state.results] == [False, True]
    assert (state.results[1].code, state.results[1].message) == ("InternalError.Timeout",
                                                                 "An internal timeout error has occured.")
    assert state.image_count == 1


def test_query_task_parses_failed_task_answered_with_http_200():
    state, _ = query({
        "request_id": "e5d7",
        "output": {"task_id": TASK_ID, "task_status": "FAILED", "code": "InvalidParameter",
                   "message": "The size is not match the allowed size",
                   "task_metrics": {"TOTAL": 4, "SUCCEEDED": 0, "FAILED": 4}},
    })

    assert (state.status, state.ended) == ("FAILED", True)
    assert (state.code, state.message) == ("InvalidParameter", "The size is not match the allowed size")


def test_query_task_parses_canceled():
    state, _ = query({"request_id": "r", "output": {"task_id": TASK_ID, "task_status": "CANCELED"}})

    assert (state.status, state.ended) == ("CANCELED", True)


def test_query_task_parses_unknown():
    state, _ = query({"request_id": "r", "output": {"task_id": TASK_ID, "task_status": "UNKNOWN"}})

    assert (state.status, state.ended) == ("UNKNOWN", True)
