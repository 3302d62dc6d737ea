"""A fake requests session for inpaint/engines/dashscope.py's tests, and the answers DashScope gives (shared by
the tests/engines/test_dashscope_*.py modules)."""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass, field

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from inpaint.engines.dashscope import DashScopeClient

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
