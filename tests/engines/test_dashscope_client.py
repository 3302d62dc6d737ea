"""The DashScope client's calls against a fake session: create_task's request, timeouts, one connection per
process, and cancel and list."""

from __future__ import annotations

import datetime
import os

import pytest
import requests

from inpaint.engines.base import TaskStatus
from inpaint.engines.dashscope import DashScopeClient, DashScopeError, keep_alive_session
from tests.engines.dashscope_session import (
    API_KEY,
    BASE,
    CREATE_URL,
    POLICY,
    SHANGHAI,
    TASK_ID,
    TIMEOUT,
    create,
    created,
    error,
    make_client,
    reply,
)


# --- create_task --------------------------------------------------------------------------


def test_create_task_posts_to_image_synthesis_url():
    client, session = make_client(created())

    create(client)

    assert (session.calls[0].method, session.calls[0].url) == ("POST", CREATE_URL)


def test_create_task_sends_bearer_authorization():
    client, session = make_client(created())

    create(client)

    assert session.calls[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_create_task_sends_json_content_type():
    client, session = make_client(created())

    create(client)

    assert session.calls[0].headers["Content-Type"] == "application/json"


def test_create_task_asks_for_async():
    client, session = make_client(created())

    create(client)

    assert session.calls[0].headers["X-DashScope-Async"] == "enable"


def test_create_task_omits_oss_resolve_header_by_default():
    client, session = make_client(created())

    create(client)

    assert "X-DashScope-OssResourceResolve" not in session.calls[0].headers


def test_create_task_sends_oss_resolve_header_when_asked():
    client, session = make_client(created())

    create(client, oss_resolve=True)

    assert session.calls[0].headers["X-DashScope-OssResourceResolve"] == "enable"


def test_create_task_body_is_exactly_model_input_parameters():
    client, session = make_client(created())
    task_input = {"prompt": "a red kite", "base_image_url": "https://a/b.png", "mask_image_url": "https://a/m.png"}

    client.create_task(model="wanx-x-painting", input=task_input, parameters={"size": "1024*1024", "n": 2})

    assert session.calls[0].json == {"model": "wanx-x-painting", "input": task_input,
                                     "parameters": {"size": "1024*1024", "n": 2}}


def test_create_task_returns_pending_task_id():
    client, _ = make_client(created("task-42"))

    state = create(client)

    assert (state.status, state.task_id, state.request_id) == (TaskStatus.PENDING, "task-42", "req-create")


def test_create_task_without_task_id_raises():
    client, _ = make_client(reply(200, {"output": {"task_status": "PENDING"}, "request_id": "r"}))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.code == "NoTaskId"


@pytest.mark.parametrize(
    ("operation", "answer"),
    [
        ("create", created()),
        ("query", reply(200, {"output": {"task_id": TASK_ID, "task_status": "RUNNING"}})),
        ("cancel", reply(200, {"request_id": "r"})),
        ("list", reply(200, {"data": [], "total_page": 1})),
        ("policy", reply(200, {"data": POLICY})),
        ("upload", reply(200, text="")),
    ],
)
def test_every_call_passes_a_timeout(operation, answer):
    client, session = make_client(answer)
    start = datetime.datetime(2024, 11, 1, tzinfo=SHANGHAI)
    calls = {
        "create": lambda: create(client),
        "query": lambda: client.query_task(TASK_ID),
        "cancel": lambda: client.cancel_task(TASK_ID),
        "list": lambda: client.list_tasks(model="wanx-x-painting", start=start, end=start + datetime.timedelta(hours=1)),
        "policy": lambda: client.upload_policy("wanx-x-painting"),
        "upload": lambda: client.upload_file(POLICY, "base.png", b"png"),
    }

    calls[operation]()

    assert session.calls[0].timeout == TIMEOUT


def test_client_from_settings_uses_base_url_key_and_timeout(settings):
    settings.DASHSCOPE_BASE_URL = "https://dashscope-intl.example.test/api/v1"
    settings.DASHSCOPE_API_KEY = API_KEY
    settings.DASHSCOPE_TIMEOUT = (2.0, 9.0)

    client = DashScopeClient.from_settings()

    assert (client.base_url, client.api_key, client.timeout) == (
        "https://dashscope-intl.example.test/api/v1", API_KEY, (2.0, 9.0))


def test_calls_from_one_process_reuse_one_connection_to_the_service(standin_settings, dashscope):
    for _ in range(3):  # as a poll every second does, each through a client made afresh
        assert DashScopeClient.from_settings().query_task("no-such-task").status == TaskStatus.UNKNOWN
    pools = keep_alive_session().get_adapter(dashscope.base_url).poolmanager.pools
    keys = pools.keys()  # urllib3's pool container has keys() but refuses plain iteration
    opened = sum(pools[key].num_connections for key in keys if key.key_port == dashscope.port)
    assert opened == 1, "each call opened a connection (and, to the real service, a TLS session)"


def test_a_forked_worker_process_never_shares_its_parents_connections(monkeypatch):
    parents = keep_alive_session()
    assert keep_alive_session() is parents
    monkeypatch.setattr(os, "getpid", lambda: -1)
    assert keep_alive_session() is not parents


# --- cancel and list ----------------------------------------------------------------------


def test_cancel_task_posts_cancel_url():
    client, session = make_client(reply(200, {"request_id": "r"}))

    client.cancel_task(TASK_ID)

    assert (session.calls[0].method, session.calls[0].url) == ("POST", f"{BASE}/tasks/{TASK_ID}/cancel")
    assert session.calls[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_cancel_task_of_running_task_raises_permanent_error():
    client, _ = make_client(error(400, "UnsupportedOperation", "The operation is unsupported on the referee object."))

    with pytest.raises(DashScopeError) as raised:
        client.cancel_task(TASK_ID)

    assert (raised.value.code, raised.value.transient) == ("UnsupportedOperation", False)


def list_page(page_no: int, total_page: int, task_ids: list[str]) -> requests.Response:
    return reply(200, {"request_id": f"r{page_no}", "data": [{"task_id": task_id} for task_id in task_ids],
                       "total": 3, "total_page": total_page, "page_no": page_no, "page_size": 2})


def list_two_pages():
    client, session = make_client(list_page(1, 2, ["t1", "t2"]), list_page(2, 2, ["t3"]))
    start = datetime.datetime(2024, 11, 1, 1, 0, 0, tzinfo=datetime.UTC)
    tasks = client.list_tasks(model="wanx-x-painting", start=start, end=start + datetime.timedelta(hours=23),
                              page_size=2)
    return tasks, session


def test_list_tasks_passes_model_page_and_shanghai_times():
    _, session = list_two_pages()

    first = session.calls[0]
    assert first.method == "GET"
    assert first.url.split("?")[0] == f"{BASE}/tasks"
    assert first.kwargs["params"] == {"model_name": "wanx-x-painting", "page_no": 1, "page_size": 2,
                                      "start_time": "20241101090000", "end_time": "20241102080000"}
    assert first.headers["Authorization"] == f"Bearer {API_KEY}"


def test_list_tasks_follows_total_page():
    tasks, session = list_two_pages()

    assert [call.kwargs["params"]["page_no"] for call in session.calls] == [1, 2]
    assert [task["task_id"] for task in tasks] == ["t1", "t2", "t3"]


def test_list_tasks_stops_after_single_page():
    client, session = make_client(list_page(1, 1, ["t1"]))
    start = datetime.datetime(2024, 11, 1, tzinfo=SHANGHAI)

    tasks = client.list_tasks(model="wanx-x-painting", start=start, end=start + datetime.timedelta(hours=1))

    assert len(session.calls) == 1
    assert [task["task_id"] for task in tasks] == ["t1"]
