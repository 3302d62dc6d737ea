"""inpaint/engines/dashscope.py: the DashScope client and the two cloud engines, against a fake session."""

from __future__ import annotations

import datetime
import json
import os
import re
import sys
import zoneinfo
from dataclasses import dataclass, field

import pytest
import requests
from django.views.debug import ExceptionReporter
from urllib3.exceptions import MaxRetryError, NewConnectionError

from inpaint.engines.base import JobInput, TaskStatus
from inpaint.engines.dashscope import (
    DashScopeClient,
    DashScopeError,
    WanxImageEditEngine,
    WanxPaintingEngine,
    error_is_transient,
    keep_alive_session,
)

BASE = "https://dashscope.example.test/api/v1"
API_KEY = "sk-secret-4f1c2b9e7d"
TIMEOUT = (3.0, 7.0)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TASK_ID = "86ecf553-d340-4e21-af6e-a0c6a421c010"
CREATE_URL = f"{BASE}/services/aigc/image2image/image-synthesis"
UPLOAD_HOST = "https://dashscope-file-test.oss-cn-beijing.aliyuncs.com"
POLICY = {
    "policy": "eyJleHBpcmF0aW9uIjoi",
    "signature": "c2lnbmF0dXJl",
    "upload_dir": "dashscope-instant/abc/2024-07-18/xyz",
    "upload_host": UPLOAD_HOST,
    "expire_in_seconds": 300,
    "max_file_size_mb": 100,
    "capacity_limit_mb": 999999999,
    "oss_access_key_id": "LTAI-test-id",
    "x_oss_object_acl": "private",
    "x_oss_forbid_overwrite": "true",
}


# --- the fake session ---------------------------------------------------------------------


@dataclass
class Call:
    method: str
    url: str  # with the query string, as it goes on the wire
    kwargs: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict:
        return self.kwargs.get("headers") or {}

    @property
    def json(self):
        return self.kwargs.get("json")

    @property
    def data(self):
        return self.kwargs.get("data")

    @property
    def files(self):
        return self.kwargs.get("files")

    @property
    def timeout(self):
        return self.kwargs.get("timeout")

    def multipart_field_names(self) -> list[str]:
        """The form field names in the order requests puts them on the wire."""
        prepared = requests.Request(self.method, self.url, data=self.data, files=self.files).prepare()
        return [name.decode() for name in re.findall(rb'Content-Disposition: form-data; name="([^"]+)"', prepared.body)]


class FakeSession:
    """Records each request and answers with the next scripted response (or raises it)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[Call] = []

    def request(self, method, url, **kwargs):
        return self._answer(method, url, kwargs)

    def get(self, url, **kwargs):
        return self._answer("GET", url, kwargs)

    def post(self, url, **kwargs):
        return self._answer("POST", url, kwargs)

    def _answer(self, method, url, kwargs):
        params = kwargs.get("params")
        full_url = requests.Request(method, url, params=params).prepare().url if params else url
        self.calls.append(Call(method.upper(), full_url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer()
        return answer


def reply(status: int = 200, body=None, *, text: str | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests",
                       500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                       504: "Gateway Timeout"}.get(status, "")
    response.encoding = "utf-8"
    if text is not None:
        response._content = text.encode()
        response.headers["Content-Type"] = "text/html"
    else:
        response._content = json.dumps(body if body is not None else {}).encode()
        response.headers["Content-Type"] = "application/json"
    return response


def created(task_id: str = TASK_ID) -> requests.Response:
    return reply(200, {"output": {"task_status": "PENDING", "task_id": task_id}, "request_id": "req-create"})


def error(status: int, code: str, message: str) -> requests.Response:
    return reply(status, {"code": code, "message": message, "request_id": "req-error"})


def refused_connection() -> requests.ConnectionError:
    """What requests raises when nothing listens on the port: no byte of the request was sent."""
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused:
            raise NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused") \
                from refused
    except NewConnectionError as reason:
        try:
            raise MaxRetryError(None, "/api/v1/services/aigc/image2image/image-synthesis", reason)
        except MaxRetryError as exc:
            # As requests.adapters.HTTPAdapter.send does it.
            try:
                raise requests.ConnectionError(exc)
            except requests.ConnectionError as connection_error:
                return connection_error


def make_client(*answers) -> tuple[DashScopeClient, FakeSession]:
    session = FakeSession(*answers)
    return DashScopeClient(base_url=BASE, api_key=API_KEY, timeout=TIMEOUT, session=session), session


def create(client: DashScopeClient, **kwargs):
    return client.create_task(model="wanx-x-painting", input={"prompt": "a red kite", "base_image_url": "https://a/b.png",
                                                              "mask_image_url": "https://a/m.png"},
                              parameters={"n": 1}, **kwargs)


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


# --- engines ------------------------------------------------------------------------------


@pytest.fixture
def cloud(settings):
    settings.DASHSCOPE_BASE_URL = BASE
    settings.DASHSCOPE_API_KEY = API_KEY
    settings.DASHSCOPE_TIMEOUT = TIMEOUT
    return settings


def engine_on(engine_class, session: FakeSession):
    engine = engine_class()

    def client():
        configured = DashScopeClient.from_settings()
        configured.session = session
        return configured

    engine.client = client
    return engine


def signed_link(name: str) -> str:
    return f"https://inpaint.example.test/media/{name}?expires=1730000000&signature=abc"


def job_input(**overrides) -> JobInput:
    values = dict(base_image=b"\x89PNG base bytes", mask_image=b"\x89PNG mask bytes", base_name="jobs/7f3a/base.png",
                  mask_name="jobs/7f3a/mask.png", prompt="a red kite in the sky", style="<watercolor>",
                  size=(1280, 720), n=2, seed=42, link=signed_link)
    values.update(overrides)
    return JobInput(**values)


def test_wanx_painting_engine_body_with_links(cloud):
    session = FakeSession(created())

    engine_on(WanxPaintingEngine, session).submit(job_input())

    assert session.calls[0].json == {
        "model": "wanx-x-painting",
        "input": {"prompt": "a red kite in the sky", "base_image_url": signed_link("jobs/7f3a/base.png"),
                  "mask_image_url": signed_link("jobs/7f3a/mask.png")},
        "parameters": {"style": "<watercolor>", "size": "1280*720", "n": 2},
    }


def test_wanx_imageedit_engine_body_with_links(cloud):
    session = FakeSession(created())

    engine_on(WanxImageEditEngine, session).submit(job_input())

    assert session.calls[0].json == {
        "model": "wanx2.1-imageedit",
        "input": {"function": "description_edit_with_mask", "prompt": "a red kite in the sky",
                  "base_image_url": signed_link("jobs/7f3a/base.png"),
                  "mask_image_url": signed_link("jobs/7f3a/mask.png")},
        "parameters": {"n": 2, "seed": 42},
    }


def test_engine_with_links_uploads_nothing(cloud):
    session = FakeSession(created())

    engine_on(WanxPaintingEngine, session).submit(job_input())

    assert [(call.method, call.url) for call in session.calls] == [("POST", CREATE_URL)]
    assert "X-DashScope-OssResourceResolve" not in session.calls[0].headers


def test_engine_submit_returns_remote_task(cloud):
    session = FakeSession(created("task-77"))

    state = engine_on(WanxPaintingEngine, session).submit(job_input())

    assert (state.task_id, state.status) == ("task-77", TaskStatus.PENDING)


def submit_via_temporary_storage(engine_class=WanxPaintingEngine) -> FakeSession:
    session = FakeSession(reply(200, {"request_id": "req-policy", "data": POLICY}), reply(200, text=""),
                          reply(200, text=""), created())
    engine_on(engine_class, session).submit(job_input(link=None))
    return session


def test_engine_without_links_asks_for_upload_policy(cloud):
    session = submit_via_temporary_storage()

    policy_call = session.calls[0]
    assert (policy_call.method, policy_call.url) == ("GET", f"{BASE}/uploads?action=getPolicy&model=wanx-x-painting")
    assert policy_call.headers["Authorization"] == f"Bearer {API_KEY}"


def test_engine_without_links_asks_policy_for_its_own_model(cloud):
    session = submit_via_temporary_storage(WanxImageEditEngine)

    assert session.calls[0].url == f"{BASE}/uploads?action=getPolicy&model=wanx2.1-imageedit"


def test_engine_without_links_uploads_both_files_to_upload_host(cloud):
    session = submit_via_temporary_storage()

    uploads = session.calls[1:3]
    assert [(call.method, call.url) for call in uploads] == [("POST", UPLOAD_HOST), ("POST", UPLOAD_HOST)]
    assert [call.files["file"][1] for call in uploads] == [b"\x89PNG base bytes", b"\x89PNG mask bytes"]


def test_engine_upload_sends_documented_policy_fields(cloud):
    session = submit_via_temporary_storage()

    fields = session.calls[1].data
    assert {name: fields[name] for name in ("OSSAccessKeyId", "Signature", "policy", "key", "x-oss-object-acl",
                                            "x-oss-forbid-overwrite", "success_action_status")} == {
        "OSSAccessKeyId": "LTAI-test-id",
        "Signature": "c2lnbmF0dXJl",
        "policy": "eyJleHBpcmF0aW9uIjoi",
        "key": "dashscope-instant/abc/2024-07-18/xyz/jobs-7f3a-base.png",
        "x-oss-object-acl": "private",
        "x-oss-forbid-overwrite": "true",
        "success_action_status": "200",
    }


def test_engine_upload_keys_are_flat_and_distinct(cloud):
    session = submit_via_temporary_storage()

    assert [call.data["key"] for call in session.calls[1:3]] == [
        "dashscope-instant/abc/2024-07-18/xyz/jobs-7f3a-base.png",
        "dashscope-instant/abc/2024-07-18/xyz/jobs-7f3a-mask.png",
    ]


def test_engine_upload_puts_file_last(cloud):
    session = submit_via_temporary_storage()

    names = session.calls[1].multipart_field_names()
    assert names[-1] == "file"
    assert names.count("file") == 1


def test_engine_upload_sends_no_api_key(cloud):
    session = submit_via_temporary_storage()

    upload = session.calls[1]
    assert "Authorization" not in upload.headers
    assert API_KEY not in repr(upload.kwargs)


def test_engine_without_links_creates_with_oss_urls(cloud):
    session = submit_via_temporary_storage()

    create_call = session.calls[3]
    assert (create_call.method, create_call.url) == ("POST", CREATE_URL)
    assert create_call.json["input"]["base_image_url"] == "oss://dashscope-instant/abc/2024-07-18/xyz/jobs-7f3a-base.png"
    assert create_call.json["input"]["mask_image_url"] == "oss://dashscope-instant/abc/2024-07-18/xyz/jobs-7f3a-mask.png"


def test_engine_without_links_sends_oss_resolve_header(cloud):
    session = submit_via_temporary_storage()

    assert session.calls[3].headers["X-DashScope-OssResourceResolve"] == "enable"


def test_engine_upload_failure_stops_before_create(cloud):
    session = FakeSession(reply(200, {"data": POLICY}), reply(403, text="<Error>Policy expired.</Error>"))

    with pytest.raises(DashScopeError) as raised:
        engine_on(WanxPaintingEngine, session).submit(job_input(link=None))

    assert raised.value.code == "UploadFailed"
    assert [call.url for call in session.calls] == [f"{BASE}/uploads?action=getPolicy&model=wanx-x-painting",
                                                    UPLOAD_HOST]


def test_engine_poll_queries_task(cloud):
    session = FakeSession(reply(200, {"output": {"task_id": TASK_ID, "task_status": "RUNNING"}}))

    state = engine_on(WanxPaintingEngine, session).poll(TASK_ID)

    assert (session.calls[0].method, session.calls[0].url) == ("GET", f"{BASE}/tasks/{TASK_ID}")
    assert state.status == TaskStatus.RUNNING


def test_engine_is_configured_only_with_api_key(settings):
    settings.DASHSCOPE_API_KEY = ""

    assert WanxPaintingEngine().is_configured() is False


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


# --- error sorting ------------------------------------------------------------------------

ERRORS = [
    pytest.param(401, "InvalidApiKey", "Invalid API-key provided.", False, id="401-InvalidApiKey"),
    pytest.param(400, "InvalidParameter", "Required parameter(s) missing or invalid.", False, id="400-InvalidParameter"),
    pytest.param(400, "DataInspectionFailed", "Input data may contain inappropriate content.", False,
                 id="400-DataInspectionFailed"),
    pytest.param(429, "Throttling", "Requests throttling triggered.", True, id="429-Throttling"),
    pytest.param(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", True,
                 id="429-Throttling.RateQuota"),
    pytest.param(429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", False,
                 id="429-free-quota-gone"),
    pytest.param(400, "Arrearage", "Access denied, please make sure your account is in good standing.", False,
                 id="400-Arrearage"),
    pytest.param(500, "InternalError", "An internal error has occured, please try again later.", True,
                 id="500-InternalError"),
]


@pytest.mark.parametrize(("status", "code", "message", "transient"), ERRORS)
def test_error_is_transient_sorts_error(status, code, message, transient):
    assert error_is_transient(status, code, message) is transient


@pytest.mark.parametrize(("status", "code", "message", "transient"), ERRORS)
def test_create_task_raises_sorted_error(status, code, message, transient):
    client, _ = make_client(error(status, code, message))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert (raised.value.code, raised.value.message, raised.value.http_status) == (code, message, status)
    assert raised.value.request_id == "req-error"
    assert raised.value.transient is transient
    assert raised.value.maybe_created is False


@pytest.mark.parametrize("code", ["Throttling", "Throttling.RateQuota"])
def test_rate_limit_error_is_throttled(code):
    client, _ = make_client(error(429, code, "Requests rate limit exceeded, please try again later."))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.throttled is True


def test_free_quota_gone_is_not_throttled():
    client, _ = make_client(error(429, "Throttling.AllocationQuota", "Free allocated quota exceeded."))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.throttled is False


def test_server_fault_is_not_throttled():
    client, _ = make_client(error(500, "InternalError", "An internal error has occured."))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.throttled is False


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_error_with_html_body_is_transient(status):
    client, _ = make_client(reply(status, text="<html><body><h1>Bad Gateway</h1></body></html>"))

    with pytest.raises(DashScopeError) as raised:
        client.query_task(TASK_ID)

    assert raised.value.code in ("Unknown", f"HTTP{status}")
    assert raised.value.http_status == status
    assert raised.value.transient is True


@pytest.mark.parametrize(("failure", "call", "maybe_created"), [
    (requests.ReadTimeout("read timed out"), "create", True),
    (requests.ReadTimeout("read timed out"), "query", False),
    (requests.ConnectTimeout("connect timed out"), "create", False),
    (requests.ConnectionError("Connection reset by peer"), "query", False),
], ids=["read-timeout-on-create", "read-timeout-on-query", "connect-timeout-on-create", "reset-on-query"])
def test_network_failure_is_transient_and_says_whether_a_task_may_exist(failure, call, maybe_created):
    client, _ = make_client(failure)

    with pytest.raises(DashScopeError) as raised:
        create(client) if call == "create" else client.query_task(TASK_ID)

    assert (raised.value.transient, raised.value.maybe_created) == (True, maybe_created)


def test_refused_connection_on_create_created_nothing():
    client, _ = make_client(refused_connection())

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.transient is True
    assert raised.value.maybe_created is False


# --- the API key stays secret -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        error(401, "InvalidApiKey", "Invalid API-key provided."),
        reply(502, text="<html>Bad Gateway</html>"),
        requests.ReadTimeout(f"read timed out (Authorization: Bearer {API_KEY})"),
        requests.ConnectTimeout(f"connect timed out (Authorization: Bearer {API_KEY})"),
        requests.ConnectionError(f"reset (Authorization: Bearer {API_KEY})"),
    ],
    ids=["401", "502-html", "read-timeout", "connect-timeout", "connection-error"],
)
def test_api_key_not_in_exception_message(answer, caplog):
    client, _ = make_client(answer)
    caplog.set_level("DEBUG")

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert API_KEY not in str(raised.value)
    assert API_KEY not in repr(raised.value.args)
    assert API_KEY not in raised.value.message
    assert API_KEY not in caplog.text


def test_api_key_not_in_upload_failure_message():
    client, _ = make_client(requests.ConnectionError(f"reset (Authorization: Bearer {API_KEY})"))

    with pytest.raises(DashScopeError) as raised:
        client.upload_file(POLICY, "base.png", b"png")

    assert API_KEY not in str(raised.value)


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


# --- the key never reaches an exception message or a log ----------------------------------------


def test_a_key_with_a_newline_fails_in_plain_words_without_quoting_it(caplog):
    client = DashScopeClient(base_url=BASE, api_key="sk-x-secret\n", timeout=TIMEOUT)  # a real requests.Session
    with pytest.raises(DashScopeError) as raised:
        client.query_task(TASK_ID)
    assert raised.value.code == "ClientConfiguration"
    assert not raised.value.transient
    assert "sk-x-secret" not in str(raised.value) and "sk-x-secret" not in caplog.text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_the_debug_page_of_an_error_inside_a_call_does_not_show_the_key(settings, rf):
    settings.DEBUG = True

    class Broken:
        def request(self, method, url, **kwargs):
            raise RuntimeError("a bug below the client")

    client = DashScopeClient(base_url=BASE, api_key=API_KEY, timeout=TIMEOUT, session=Broken())
    try:
        client.query_task(TASK_ID)
    except RuntimeError:
        report = ExceptionReporter(rf.get("/"), *sys.exc_info()).get_traceback_text()
    assert "_call" in report and "a bug below the client" in report
    assert API_KEY not in report


@pytest.mark.parametrize("failure", [requests.exceptions.ChunkedEncodingError("broken"),
                                     requests.exceptions.ContentDecodingError("bad gzip"),
                                     requests.exceptions.TooManyRedirects("loop")])
def test_every_requests_failure_becomes_a_dashscope_error_named_by_its_class(failure):
    class Failing:
        def request(self, *args, **kwargs):
            raise failure

    client = DashScopeClient(base_url=BASE, api_key=API_KEY, timeout=TIMEOUT, session=Failing())
    with pytest.raises(DashScopeError) as raised:
        client.create_task(model="wanx-x-painting", input={}, parameters={})
    assert raised.value.message == failure.__class__.__name__
    assert raised.value.transient and raised.value.maybe_created
