"""A local stand-in for Alibaba Cloud DashScope's asynchronous image-synthesis service.

It is a real HTTP server on 127.0.0.1 that follows the wire contract of
``/api/v1/services/aigc/image2image/image-synthesis`` (``wanx-x-painting`` and
``wanx2.1-imageedit``), task query / cancel / list, the temporary-storage upload flow
(getPolicy + OSS form POST + ``oss://`` URLs) and signed result links, so the app's
integration tests exercise the same headers, JSON shapes, status codes, rate limits and
failure modes as production without network access or cost.

    with DashScopeStandIn(api_key="sk-test") as ds:
        settings.DASHSCOPE_BASE_URL = ds.base_url
        ...

Knobs (plain attributes, read whenever they matter): ``pending_seconds``, ``running_seconds``,
``submit_rps``, ``concurrency``, ``query_qps``, ``result_ttl_seconds``, ``policy_ttl_seconds``,
``max_upload_mb``, ``fail_slots``. Fault injection: ``fail_next_creates``, ``fail_next_queries``,
``hang_next_queries``, ``hang_next_create_answers``, ``fail_next_tasks``, ``expire_results_now``. Inspection: ``requests``,
``tasks``, ``creates_accepted``, ``throttled``, ``running_timeline``, ``uploads``.

Task lifecycle: PENDING until ``pending_seconds`` have passed *and* a running slot of the model
is free (FIFO per model); RUNNING while the input images are downloaded, checked and the results
drawn, for at least ``running_seconds``; then SUCCEEDED / FAILED. Transitions are computed in
time order from wall-clock timestamps, so ``running_timeline`` holds the exact instants even
though they are applied by a 20 ms ticker or lazily by the next request.

Run by hand for demos: ``python -m tests.dashscope_standin --port 8765 --key sk-demo``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import re
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import requests as http_client
from PIL import Image, UnidentifiedImageError
from requests.structures import CaseInsensitiveDict

WANX_X_PAINTING = "wanx-x-painting"
WANX_IMAGEEDIT = "wanx2.1-imageedit"

# DashScope reports task times in China Standard Time, not UTC.
CHINA_TZ = timezone(timedelta(hours=8))

MSG_INTERNAL_ERROR = "An internal error has occured, please try again later or contact service support."
MSG_SLOT_TIMEOUT = (
    "An internal timeout error has occured during execution, please try again later or contact service support."
)
MSG_RATE_LIMITED = "Requests rate limit exceeded, please try again later."
MSG_INVALID_URL = "The provided URL does not appear to be valid"
MSG_DOWNLOAD_FAILED = "Failed to download the input file"
MSG_DATA_INSPECTION = "Input data may contain inappropriate content."
MSG_BODY_INVALID = "Required body invalid, please check the request body format."

X_PAINTING_STYLES = (
    "<auto>",
    "<3d cartoon>",
    "<anime>",
    "<oil painting>",
    "<watercolor>",
    "<sketch>",
    "<chinese painting>",
    "<flat illustration>",
)
X_PAINTING_SIZES = ("1024*1024", "720*1280", "1280*720")
IMAGEEDIT_FUNCTIONS = (
    "stylization_all",
    "stylization_local",
    "description_edit",
    "description_edit_with_mask",
    "remove_watermark",
    "expand",
    "super_resolution",
    "colorization",
    "doodle",
    "control_cartoon_feature",
)
IMAGEEDIT_SUPPORTED_FUNCTIONS = ("description_edit_with_mask",)
MAX_SEED = 2147483647
MAX_INPUT_IMAGE_BYTES = 10 * 1024 * 1024
INPUT_DOWNLOAD_TIMEOUT_SECONDS = 10
# JPEG-compressed masks never reproduce a colour exactly, so mask_color matching allows this per-channel slack.
MASK_COLOUR_TOLERANCE = 8
LIFECYCLE_TICK_SECONDS = 0.02
# How often serve_forever looks for a shutdown request; the default 0.5 s would slow every test's teardown.
SHUTDOWN_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class ModelRules:
    """Per-model input limits from the API references (sections 7.1 / 7.2)."""

    max_prompt_chars: int
    min_side: int  # inclusive
    max_side: int  # inclusive
    side_rule: str  # how the documentation words the resolution limit, reused in error messages
    image_formats: tuple[str, ...]
    accepts_data_uri: bool


MODEL_RULES = {
    WANX_X_PAINTING: ModelRules(
        max_prompt_chars=75,
        min_side=257,
        max_side=4095,
        side_rule="greater than 256 and less than 4096",
        image_formats=("JPEG", "PNG", "BMP"),
        accepts_data_uri=False,
    ),
    WANX_IMAGEEDIT: ModelRules(
        max_prompt_chars=800,
        min_side=512,
        max_side=4096,
        side_rule="between 512 and 4096",
        image_formats=("JPEG", "PNG", "BMP", "TIFF", "WEBP"),
        accepts_data_uri=True,
    ),
}


def fill_colour(prompt: str, slot: int) -> tuple[int, int, int]:
    """The flat colour the stand-in paints into the masked region of result `slot` for `prompt`."""
    digest = hashlib.sha256(f"{prompt}\x00{slot}".encode()).digest()
    return digest[0], digest[1], digest[2]


def format_task_time(epoch: float) -> str:
    """DashScope's ``YYYY-MM-DD HH:mm:ss.SSS`` timestamp."""
    return datetime.fromtimestamp(epoch, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def new_request_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """A DashScope JSON error answer: ``{"code", "message", "request_id"}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class OssError(Exception):
    """An OSS-style XML error answer."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class TaskFailure(Exception):
    """Ends a task FAILED with ``output.code`` / ``output.message``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict
    body: bytes
    json: Any
    time: float


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class TaskOutcome:
    """What a run produced: a whole-task failure, or one PNG / (code, message) per slot."""

    failure: tuple[str, str] | None = None
    slots: list[bytes | tuple[str, str]] = field(default_factory=list)


@dataclass
class TaskRecord:
    task_id: str
    model: str
    input: dict
    parameters: dict
    request_id: str
    created_at: float
    ready_at: float  # created_at + pending_seconds: earliest moment it may start
    forced_failure: tuple[str, str] | None
    failing_slots: dict[int, tuple[str, str]]
    status: str = "PENDING"
    started_at: float | None = None
    ended_at: float | None = None
    running_seconds: float = 0.0
    outcome: TaskOutcome | None = None
    outcome_ready_at: float | None = None
    results: list[dict] = field(default_factory=list)
    result_pngs: dict[int, bytes] = field(default_factory=dict)
    results_expire_at: float | None = None
    code: str | None = None
    message: str | None = None

    @property
    def n(self) -> int:
        return self.parameters.get("n", 1)

    @property
    def succeeded_count(self) -> int:
        return len(self.result_pngs)

    def due_end_at(self) -> float | None:
        """When a RUNNING task finishes: after running_seconds, but never before its outcome exists."""
        if self.outcome_ready_at is None:
            return None
        return max(self.started_at + self.running_seconds, self.outcome_ready_at)


def _json_response(status: int, payload: dict) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")


def _api_error_response(error: ApiError) -> Response:
    return _json_response(error.status, {"code": error.code, "message": error.message, "request_id": new_request_id()})


def _oss_request_id() -> str:
    return uuid.uuid4().hex[:24].upper()


def _oss_error_response(error: OssError) -> Response:
    request_id = _oss_request_id()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Error>\n"
        f"  <Code>{xml_escape(error.code)}</Code>\n"
        f"  <Message>{xml_escape(error.message)}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "  <HostId>127.0.0.1</HostId>\n"
        "</Error>\n"
    )
    return Response(error.status, body.encode(), "application/xml", {"x-oss-request-id": request_id})


def _gateway_error_response(status: int) -> Response:
    """What a load balancer in front of DashScope answers: HTML, not DashScope JSON."""
    body = (
        f"<html><head><title>{status}</title></head>"
        f"<body><center><h1>{status}</h1></center><hr><center>nginx</center></body></html>"
    )
    return Response(status, body.encode(), "text/html")


def _parse_multipart(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """Form fields in order as (name, value); split on the boundary by hand so file bytes stay exactly as sent."""
    malformed = OssError(
        400, "InvalidArgument", "The body of your POST request is not well-formed multipart/form-data."
    )
    header = BytesHeaderParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode())
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not boundary:
        raise malformed
    fields = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):  # closing delimiter
            break
        head, separator, value = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = BytesHeaderParser().parsebytes(head + b"\r\n\r\n").get_param("name", header="content-disposition")
        if not separator or not name:
            raise malformed
        fields.append((name, value.removesuffix(b"\r\n")))
    return fields


def _validate_n(parameters: dict) -> None:
    n = parameters.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4:
        raise ApiError(400, "InvalidParameter", "The n is out of the allowed range [1, 4]")


def _validate_prompt(input_: dict, rules: ModelRules) -> dict:
    prompt = input_.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "InvalidParameter", "Field required: input.prompt")
    return {**input_, "prompt": prompt[: rules.max_prompt_chars]}


def _validate_x_painting(input_: dict, parameters: dict) -> dict:
    """Checks a wanx-x-painting request; returns the input with the prompt truncated as the service does."""
    input_ = _validate_prompt(input_, MODEL_RULES[WANX_X_PAINTING])
    for name in ("base_image_url", "mask_image_url"):
        _require_url(input_, name)
    style = parameters.get("style", "<auto>")
    if style not in X_PAINTING_STYLES:
        raise ApiError(400, "InvalidParameter", f"The style is not match the allowed style {list(X_PAINTING_STYLES)}")
    size = parameters.get("size", "1024*1024")
    if size not in X_PAINTING_SIZES:
        raise ApiError(400, "InvalidParameter", f"The size is not match the allowed size {list(X_PAINTING_SIZES)}")
    _validate_n(parameters)
    mask_color = parameters.get("mask_color", [])
    colours_ok = isinstance(mask_color, list) and all(
        isinstance(colour, list)
        and len(colour) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in colour)
        for colour in mask_color
    )
    if not colours_ok:
        raise ApiError(400, "InvalidParameter", "The mask_color must be a list of [R, G, B] values in [0, 255]")
    return input_


def _validate_imageedit(input_: dict, parameters: dict) -> dict:
    """Checks a wanx2.1-imageedit request; returns the input with the prompt truncated as the service does."""
    function = input_.get("function")
    if not function:
        raise ApiError(400, "InvalidParameter", "Field required: input.function")
    if function not in IMAGEEDIT_FUNCTIONS:
        raise ApiError(
            400, "InvalidParameter", f"The function is not match the allowed function {list(IMAGEEDIT_FUNCTIONS)}"
        )
    if function not in IMAGEEDIT_SUPPORTED_FUNCTIONS:
        raise ApiError(
            400,
            "InvalidParameter",
            f"The function {function} is not supported by the DashScope stand-in; "
            f"supported: {list(IMAGEEDIT_SUPPORTED_FUNCTIONS)}",
        )
    input_ = _validate_prompt(input_, MODEL_RULES[WANX_IMAGEEDIT])
    for name in ("base_image_url", "mask_image_url"):
        _require_url(input_, name)
    _validate_n(parameters)
    seed = parameters.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ApiError(400, "InvalidParameter", f"The seed is out of the allowed range [0, {MAX_SEED}]")
    return input_


def _require_url(input_: dict, name: str) -> None:
    if not isinstance(input_.get(name), str) or not input_[name]:
        raise ApiError(400, "InvalidParameter", f"Field required: input.{name}")


VALIDATORS = {WANX_X_PAINTING: _validate_x_painting, WANX_IMAGEEDIT: _validate_imageedit}

CREATE_PATH = "/api/v1/services/aigc/image2image/image-synthesis"
TASK_PATH = re.compile(r"^/api/v1/tasks/(?P<task_id>[^/]+)$")
CANCEL_PATH = re.compile(r"^/api/v1/tasks/(?P<task_id>[^/]+)/cancel$")
LIST_PATHS = ("/api/v1/tasks", "/api/v1/tasks/")
UPLOAD_POLICY_PATH = "/api/v1/uploads"
OSS_UPLOAD_PATH = "/oss"
RESULT_PATH = re.compile(r"^/results/(?P<task_id>[^/]+)/(?P<slot>\d+)\.png$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: tests inspect ``DashScopeStandIn.requests`` instead of access logs."""

    def _serve(self, method: str) -> None:
        # Read the whole body first, even for requests answered with an error, so keep-alive connections stay in sync.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        response = self.server.standin.handle(method, self.path, self.headers, body)
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout during hang_next_queries); nothing left to tell it


class DashScopeStandIn:
    """Serves the DashScope async image-synthesis contract on 127.0.0.1; use as a context manager."""

    def __init__(self, api_key: str = "sk-test", port: int = 0):
        self.api_key = api_key
        self.pending_seconds = 0.0  # read when a task is created
        self.running_seconds = 1.0  # read when a task starts
        # Documented limits per main account (reference section 8).
        self.submit_rps = {WANX_X_PAINTING: 2, WANX_IMAGEEDIT: 2}
        self.concurrency = {WANX_X_PAINTING: 1, WANX_IMAGEEDIT: 2}
        self.query_qps = 20
        self.result_ttl_seconds = 86400
        self.policy_ttl_seconds = 300  # validity of an upload policy (expire_in_seconds)
        self.max_upload_mb = 100  # max_file_size_mb of an upload policy
        self.fail_slots: dict[int, tuple[str, str]] = {}  # slot -> (code, message); read when a task is created
        self.creates_accepted = 0
        self.throttled = 0

        self._port = port
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        # Never route the stand-in's own downloads through a proxy from the environment.
        self._fetcher = http_client.Session()
        self._fetcher.trust_env = False
        self._secret = uuid.uuid4().bytes
        self._oss_access_key_id = "LTAI5tStandIn" + uuid.uuid4().hex[:10]
        self._account_id = hashlib.sha256(api_key.encode()).hexdigest()[:16]

        self._requests: list[RecordedRequest] = []
        self._tasks: dict[str, TaskRecord] = {}
        self._timeline: list[tuple[float, float, str]] = []
        self._uploads: dict[str, bytes] = {}
        self._upload_models: dict[str, str] = {}
        self._slot_freed_at = {model: 0.0 for model in MODEL_RULES}
        self._accepted_creates = {model: deque() for model in MODEL_RULES}
        self._accepted_queries: deque[float] = deque()
        self._create_faults: deque[ApiError] = deque()
        self._query_faults: deque[tuple[int, str | None, str | None]] = deque()
        self._query_hangs: deque[float] = deque()
        self._create_answer_hangs: deque[float] = deque()
        self._task_faults: deque[tuple[str, str]] = deque()

    # ---------------------------------------------------------------- server lifetime

    def start(self) -> "DashScopeStandIn":
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._server.standin = self
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
                name="dashscope-standin-http",
                daemon=True,
            ),
            threading.Thread(target=self._tick, name="dashscope-standin-lifecycle", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join()
        self._fetcher.close()

    def __enter__(self) -> "DashScopeStandIn":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/v1"

    # ---------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def tasks(self) -> dict[str, TaskRecord]:
        with self._lock:
            self._advance()
            return dict(self._tasks)

    @property
    def running_timeline(self) -> list[tuple[float, float, str]]:
        """(started_at, ended_at, task_id) of every task that has finished running, in start order."""
        with self._lock:
            self._advance()
            return sorted(self._timeline)

    @property
    def uploads(self) -> dict[str, bytes]:
        with self._lock:
            return dict(self._uploads)

    # ---------------------------------------------------------------- fault injection

    def fail_next_creates(
        self, count: int, status: int = 500, code: str = "InternalError", message: str = MSG_INTERNAL_ERROR
    ) -> None:
        """The next `count` create requests with valid headers are answered with this error and create nothing."""
        with self._lock:
            self._create_faults.extend(ApiError(status, code, message) for _ in range(count))

    def fail_next_queries(
        self, count: int, status: int = 502, code: str | None = None, message: str | None = None
    ) -> None:
        """The next `count` task queries get `status`: an HTML gateway page, or DashScope JSON when `code` is given."""
        with self._lock:
            self._query_faults.extend((status, code, message or MSG_INTERNAL_ERROR) for _ in range(count))

    def hang_next_queries(self, count: int, seconds: float) -> None:
        """The next `count` task queries are answered only after `seconds` (to exercise client timeouts)."""
        with self._lock:
            self._query_hangs.extend(seconds for _ in range(count))

    def hang_next_create_answers(self, count: int, seconds: float) -> None:
        """The next `count` accepted creates make their task at once but answer only after `seconds`.

        The caller cannot tell whether its paid call went through until then, as when a
        worker dies or a network drops between the service's accepting and its answer.
        """
        with self._lock:
            self._create_answer_hangs.extend(seconds for _ in range(count))

    def fail_next_tasks(
        self, count: int, code: str = "DataInspectionFailed", message: str = MSG_DATA_INSPECTION
    ) -> None:
        """The next `count` created tasks queue and run as usual (without fetching inputs), then end FAILED.

        The query then shows HTTP 200 with ``output.code`` = `code` and ``output.message`` = `message`.
        """
        with self._lock:
            self._task_faults.extend((code, message) for _ in range(count))

    def expire_results_now(self) -> None:
        """Every result link issued so far answers 403 from now on, as OSS does after the 24 h validity."""
        with self._lock:
            self._advance()
            now = time.time()
            for task in self._tasks.values():
                if task.results_expire_at is not None:
                    task.results_expire_at = min(task.results_expire_at, now)

    # ---------------------------------------------------------------- request dispatch

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        """Answers one HTTP request; called by the handler thread."""
        split = urlsplit(raw_path)
        request = RecordedRequest(
            method=method,
            path=split.path,
            query={name: values[0] for name, values in parse_qs(split.query, keep_blank_values=True).items()},
            headers=CaseInsensitiveDict(headers.items()),
            body=body,
            json=self._parse_json(body, headers.get("Content-Type", "")),
            time=time.time(),
        )
        with self._lock:
            self._requests.append(request)
        try:
            return self._route(request)
        except ApiError as error:
            return _api_error_response(error)
        except OssError as error:
            return _oss_error_response(error)
        except Exception as error:  # a stand-in bug must surface as an answer, not a dropped connection
            traceback.print_exc()
            return _api_error_response(ApiError(500, "InternalError", f"DashScope stand-in bug: {error!r}"))

    @staticmethod
    def _parse_json(body: bytes, content_type: str) -> Any:
        if not body or "json" not in content_type.lower():
            return None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def _route(self, request: RecordedRequest) -> Response:
        path, method = request.path, request.method
        if method == "POST" and path == CREATE_PATH:
            return self._create_task(request)
        if method == "GET" and (match := TASK_PATH.match(path)):
            return self._query_task(request, match["task_id"])
        if method == "POST" and (match := CANCEL_PATH.match(path)):
            return self._cancel_task(request, match["task_id"])
        if method == "GET" and path in LIST_PATHS:
            return self._list_tasks(request)
        if method == "GET" and path == UPLOAD_POLICY_PATH:
            return self._upload_policy(request)
        if method == "POST" and path == OSS_UPLOAD_PATH:
            return self._oss_upload(request)
        if method == "GET" and (match := RESULT_PATH.match(path)):
            return self._result_image(request, match["task_id"], int(match["slot"]))
        raise ApiError(404, "NotFound", f"No route for {method} {path}")

    def _require_api_key(self, request: RecordedRequest) -> None:
        authorization = request.headers.get("Authorization", "")
        if not authorization.strip():
            raise ApiError(401, "InvalidApiKey", "No API-key provided.")
        if authorization != f"Bearer {self.api_key}":
            raise ApiError(401, "InvalidApiKey", "Invalid API-key provided.")

    # ---------------------------------------------------------------- create

    def _create_task(self, request: RecordedRequest) -> Response:
        self._require_api_key(request)
        if request.headers.get("X-DashScope-Async") != "enable":
            raise ApiError(403, "AccessDenied", "current user api does not support synchronous calls")
        media_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise ApiError(400, "InvalidParameter", "Content-Type must be application/json")
        body = request.json
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidParameter", MSG_BODY_INVALID)
        with self._lock:
            if self._create_faults:
                raise self._create_faults.popleft()

        model = body.get("model")
        if not model:
            raise ApiError(400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
        if model not in MODEL_RULES:
            raise ApiError(404, "ModelNotFound", "Model not exist.")
        input_ = body.get("input")
        if not isinstance(input_, dict):
            raise ApiError(400, "BadRequest.EmptyInput", 'Required parameter "input" missing from request.')
        parameters = body.get("parameters", {})
        if not isinstance(parameters, dict):
            raise ApiError(400, "InvalidParameter", "The parameters must be an object")
        input_ = VALIDATORS[model](input_, parameters)
        oss_resolve = request.headers.get("X-DashScope-OssResourceResolve") == "enable"
        for name in ("base_image_url", "mask_image_url"):
            self._check_url_acceptable(input_[name], MODEL_RULES[model], oss_resolve)

        with self._lock:
            now = time.time()
            self._advance(now)
            recent = self._accepted_creates[model]
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= self.submit_rps.get(model, 2):
                self.throttled += 1
                raise ApiError(429, "Throttling.RateQuota", MSG_RATE_LIMITED)
            recent.append(now)
            task = TaskRecord(
                task_id=str(uuid.uuid4()),
                model=model,
                input=input_,
                parameters=dict(parameters),
                request_id=new_request_id(),
                created_at=now,
                ready_at=now + self.pending_seconds,
                forced_failure=self._task_faults.popleft() if self._task_faults else None,
                failing_slots=dict(self.fail_slots),
            )
            self._tasks[task.task_id] = task
            self.creates_accepted += 1
            self._advance(now)  # an idle slot takes the task at once
            hang = self._create_answer_hangs.popleft() if self._create_answer_hangs else None
        if hang:
            time.sleep(hang)
        return _json_response(
            200, {"output": {"task_status": "PENDING", "task_id": task.task_id}, "request_id": task.request_id}
        )

    @staticmethod
    def _check_url_acceptable(url: str, rules: ModelRules, oss_resolve: bool) -> None:
        """URL checks the gateway makes before accepting a task (downloads happen later, in the task)."""
        if not url.isascii():
            raise ApiError(400, "InvalidParameter", MSG_INVALID_URL)
        scheme = url.split(":", 1)[0].lower()
        if scheme == "oss" and oss_resolve:
            return
        if scheme == "data" and rules.accepts_data_uri and ";base64," in url:
            return
        if scheme in ("http", "https") and urlsplit(url).hostname:
            return
        raise ApiError(400, "InvalidParameter", MSG_INVALID_URL)

    # ---------------------------------------------------------------- lifecycle

    def _tick(self) -> None:
        while not self._stopped.wait(LIFECYCLE_TICK_SECONDS):
            with self._lock:
                self._advance()

    def _advance(self, now: float | None = None) -> None:
        """Applies every start / end due by `now` in time order, stamping each with the instant it was due.

        Callers hold the lock; `now` must be read under it so successive advances never go back in time.
        """
        now = time.time() if now is None else now
        for model in MODEL_RULES:
            while self._apply_next_transition(model, now):
                pass

    def _apply_next_transition(self, model: str, now: float) -> bool:
        running = [t for t in self._tasks.values() if t.model == model and t.status == "RUNNING"]
        ends = [(t.due_end_at(), t) for t in running if t.due_end_at() is not None]
        next_end = min(ends, key=lambda pair: pair[0], default=None)
        next_start = None
        if len(running) < self.concurrency.get(model, 1):
            head = next((t for t in self._tasks.values() if t.model == model and t.status == "PENDING"), None)
            if head is not None:
                next_start = (max(head.ready_at, self._slot_freed_at[model]), head)
        # On a tie the end goes first: the slot it frees may be taken at that same instant.
        if next_end and next_end[0] <= now and (next_start is None or next_end[0] <= next_start[0]):
            self._finish(next_end[1], next_end[0])
            return True
        if next_start and next_start[0] <= now:
            self._start(next_start[1], next_start[0])
            return True
        return False

    def _start(self, task: TaskRecord, at: float) -> None:
        task.status = "RUNNING"
        task.started_at = at
        task.running_seconds = self.running_seconds
        # Inputs are fetched once the task runs, not at submission, so the app's input links must stay valid
        # for as long as a task may wait in the queue.
        runner = threading.Thread(target=self._run_task, args=(task,), name=f"task-{task.task_id}", daemon=True)
        runner.start()

    def _run_task(self, task: TaskRecord) -> None:
        try:
            outcome = self._produce_outcome(task)
        except TaskFailure as failure:
            outcome = TaskOutcome(failure=(failure.code, failure.message))
        except Exception as error:  # a stand-in bug must end the task, not leave it RUNNING forever
            traceback.print_exc()
            outcome = TaskOutcome(failure=("InternalError", f"DashScope stand-in bug: {error!r}"))
        with self._lock:
            task.outcome = outcome
            task.outcome_ready_at = time.time()
            self._advance(task.outcome_ready_at)

    def _finish(self, task: TaskRecord, at: float) -> None:
        task.ended_at = at
        self._slot_freed_at[task.model] = at
        self._timeline.append((task.started_at, at, task.task_id))
        outcome = task.outcome
        if outcome.failure:
            task.status = "FAILED"
            task.code, task.message = outcome.failure
            return
        task.results_expire_at = at + self.result_ttl_seconds
        for slot, produced in enumerate(outcome.slots):
            if isinstance(produced, bytes):
                task.result_pngs[slot] = produced
                task.results.append({"url": self._result_url(task, slot)})
            else:
                task.results.append({"code": produced[0], "message": produced[1]})
        if task.result_pngs:
            task.status = "SUCCEEDED"
        else:
            task.status = "FAILED"
            task.code, task.message = outcome.slots[0]

    # ---------------------------------------------------------------- task execution (off the request path)

    def _produce_outcome(self, task: TaskRecord) -> TaskOutcome:
        if task.forced_failure:
            return TaskOutcome(failure=task.forced_failure)
        base = self._load_input_image(task, "base_image_url")
        mask = self._load_input_image(task, "mask_image_url")
        if mask.size != base.size:
            raise TaskFailure(
                "InvalidParameter",
                f"The resolution of mask_image_url ({mask.width}*{mask.height}) does not match "
                f"the resolution of base_image_url ({base.width}*{base.height})",
            )
        if task.model == WANX_X_PAINTING:
            width, height = map(int, task.parameters.get("size", "1024*1024").split("*"))
        else:
            width, height = base.size
        base_pixels = np.asarray(base.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))
        region = self._mask_region(
            mask.resize((width, height), Image.Resampling.NEAREST), task.parameters.get("mask_color", [])
        )
        slots: list[bytes | tuple[str, str]] = []
        for slot in range(task.n):
            if slot in task.failing_slots:
                slots.append(tuple(task.failing_slots[slot]))
                continue
            pixels = base_pixels.copy()
            pixels[region] = fill_colour(task.input["prompt"], slot)
            png = io.BytesIO()
            Image.fromarray(pixels).save(png, format="PNG", compress_level=1)
            slots.append(png.getvalue())
        return TaskOutcome(slots=slots)

    @staticmethod
    def _mask_region(mask: Image.Image, mask_color: list[list[int]]) -> np.ndarray:
        """Boolean map of pixels to repaint: white after binarising, or any of the listed colours."""
        if not mask_color:
            return np.asarray(mask.convert("L")) >= 128
        rgb = np.asarray(mask.convert("RGB")).astype(np.int16)
        region = np.zeros(rgb.shape[:2], dtype=bool)
        for colour in mask_color:
            region |= (np.abs(rgb - np.array(colour, dtype=np.int16)) <= MASK_COLOUR_TOLERANCE).all(axis=2)
        return region

    def _load_input_image(self, task: TaskRecord, name: str) -> Image.Image:
        data = self._download(task, task.input[name])
        rules = MODEL_RULES[task.model]
        if len(data) > MAX_INPUT_IMAGE_BYTES:
            raise TaskFailure("InvalidParameter", f"The size of {name} exceeds the limit of 10MB")
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError):
            raise TaskFailure("InvalidParameter", f"The {name} is not a decodable image") from None
        if image.format not in rules.image_formats:
            raise TaskFailure(
                "InvalidParameter", f"The format of {name} ({image.format}) is not one of {list(rules.image_formats)}"
            )
        if not all(rules.min_side <= side <= rules.max_side for side in image.size):
            raise TaskFailure(
                "InvalidParameter",
                f"The resolution of {name} is {image.width}*{image.height}; "
                f"width and height must be {rules.side_rule} pixels",
            )
        return image

    def _download(self, task: TaskRecord, url: str) -> bytes:
        download_failed = TaskFailure("BadRequest.InputDownloadFailed", MSG_DOWNLOAD_FAILED)
        if url.startswith("oss://"):
            key = url.removeprefix("oss://")
            with self._lock:
                # Temporary files are bound to the model named when the upload policy was issued.
                if self._upload_models.get(key) != task.model:
                    raise download_failed
                return self._uploads[key]
        if url.startswith("data:"):
            try:
                return base64.b64decode(url.partition(";base64,")[2], validate=True)
            except ValueError:
                raise download_failed from None
        try:
            response = self._fetcher.get(url, timeout=INPUT_DOWNLOAD_TIMEOUT_SECONDS)
        except http_client.RequestException:
            raise download_failed from None
        if response.status_code != 200:
            raise download_failed
        return response.content

    # ---------------------------------------------------------------- query / cancel / list

    def _query_task(self, request: RecordedRequest, task_id: str) -> Response:
        self._require_api_key(request)
        with self._lock:
            hang = self._query_hangs.popleft() if self._query_hangs else None
        if hang:
            time.sleep(hang)
        with self._lock:
            if self._query_faults:
                status, code, message = self._query_faults.popleft()
                if code is None:
                    return _gateway_error_response(status)
                raise ApiError(status, code, message)
            now = time.time()
            while self._accepted_queries and self._accepted_queries[0] <= now - 1.0:
                self._accepted_queries.popleft()
            if len(self._accepted_queries) >= self.query_qps:
                self.throttled += 1
                raise ApiError(429, "Throttling.RateQuota", MSG_RATE_LIMITED)
            self._accepted_queries.append(now)
            self._advance(now)
            task = self._tasks.get(task_id)
            if task is None:
                return _json_response(
                    200, {"request_id": new_request_id(), "output": {"task_id": task_id, "task_status": "UNKNOWN"}}
                )
            payload = {"request_id": new_request_id(), "output": self._task_output(task)}
            if task.status == "SUCCEEDED":
                payload["usage"] = {"image_count": task.succeeded_count}
        return _json_response(200, payload)

    @staticmethod
    def _task_output(task: TaskRecord) -> dict:
        output = {"task_id": task.task_id, "task_status": task.status, "submit_time": format_task_time(task.created_at)}
        if task.started_at is not None:
            output["scheduled_time"] = format_task_time(task.started_at)
        if task.ended_at is not None:
            output["end_time"] = format_task_time(task.ended_at)
        if task.results:
            output["results"] = [dict(result) for result in task.results]
        failed = task.n if task.status == "FAILED" else len(task.results) - task.succeeded_count
        output["task_metrics"] = {"TOTAL": task.n, "SUCCEEDED": task.succeeded_count, "FAILED": failed}
        if task.code:
            output["code"] = task.code
            output["message"] = task.message
        return output

    def _cancel_task(self, request: RecordedRequest, task_id: str) -> Response:
        self._require_api_key(request)
        with self._lock:
            now = time.time()
            self._advance(now)
            task = self._tasks.get(task_id)
            if task is None or task.status != "PENDING":
                raise ApiError(400, "UnsupportedOperation", "The operation is unsupported on the referee object.")
            task.status = "CANCELED"
            task.ended_at = now
        return _json_response(200, {"request_id": new_request_id()})

    def _list_tasks(self, request: RecordedRequest) -> Response:
        self._require_api_key(request)
        query = request.query
        try:
            page_no = int(query.get("page_no") or 1)
            page_size = int(query.get("page_size") or 10)
            window_start = self._parse_list_time(query.get("start_time"))
            window_end = self._parse_list_time(query.get("end_time"))
        except ValueError:
            raise ApiError(400, "InvalidParameter", "Invalid page_no, page_size, start_time or end_time") from None
        if page_no < 1 or page_size < 1:
            raise ApiError(400, "InvalidParameter", "page_no and page_size must be positive")
        with self._lock:
            self._advance()
            matching = [
                task
                for task in reversed(self._tasks.values())  # newest first
                if (window_start is None or task.created_at >= window_start)
                and (window_end is None or task.created_at <= window_end)
                and query.get("model_name") in (None, "", task.model)
                and query.get("status") in (None, "", task.status)
            ]
            page = [self._list_item(task) for task in matching[(page_no - 1) * page_size : page_no * page_size]]
        return _json_response(
            200,
            {
                "request_id": new_request_id(),
                "data": page,
                "total": len(matching),
                "total_page": -(-len(matching) // page_size),
                "page_no": page_no,
                "page_size": page_size,
            },
        )

    @staticmethod
    def _parse_list_time(value: str | None) -> float | None:
        if not value:
            return None
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=CHINA_TZ).timestamp()

    def _list_item(self, task: TaskRecord) -> dict:
        item = {
            "task_id": task.task_id,
            "status": task.status,
            "model_name": task.model,
            "region": "cn-beijing",
            "request_id": task.request_id,
            "api_key_id": hashlib.sha256(self.api_key.encode()).hexdigest()[:8],
            "caller_uid": self._account_id,
            "caller_parent_id": self._account_id,
            "user_api_unique_key": f"apikey:v1:aigc:image2image:image-synthesis:{task.model}",
            "gmt_create": int(task.created_at * 1000),
        }
        if task.started_at is not None:
            item["start_time"] = int(task.started_at * 1000)
        if task.ended_at is not None:
            item["end_time"] = int(task.ended_at * 1000)
        return item

    # ---------------------------------------------------------------- temporary storage

    def _sign(self, text: str) -> str:
        return base64.b64encode(hmac.new(self._secret, text.encode(), hashlib.sha1).digest()).decode()

    def _upload_policy(self, request: RecordedRequest) -> Response:
        self._require_api_key(request)
        if request.query.get("action") != "getPolicy":
            raise ApiError(400, "InvalidParameter", "The action must be getPolicy")
        model = request.query.get("model")
        if not model:
            raise ApiError(400, "InvalidParameter", "Field required: model")
        now = datetime.now(timezone.utc)
        upload_dir = f"dashscope-instant/{self._account_id}/{now.astimezone(CHINA_TZ):%Y-%m-%d}/{uuid.uuid4()}"
        expiration = now + timedelta(seconds=self.policy_ttl_seconds)
        policy_document = {
            "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "conditions": [
                ["content-length-range", 0, int(self.max_upload_mb * 1024 * 1024)],
                ["starts-with", "$key", upload_dir],
                {"x-oss-object-acl": "private"},
                {"x-oss-forbid-overwrite": "true"},
            ],
            # Not part of a real OSS policy: how the stand-in binds the upload to the model that asked for it.
            "model": model,
        }
        policy = base64.b64encode(json.dumps(policy_document).encode()).decode()
        data = {
            "policy": policy,
            "signature": self._sign(policy),
            "upload_dir": upload_dir,
            "upload_host": f"{self.root_url}{OSS_UPLOAD_PATH}",
            "expire_in_seconds": self.policy_ttl_seconds,
            "max_file_size_mb": self.max_upload_mb,
            "capacity_limit_mb": 999999,
            "oss_access_key_id": self._oss_access_key_id,
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }
        return _json_response(200, {"request_id": new_request_id(), "data": data})

    def _oss_upload(self, request: RecordedRequest) -> Response:
        fields = _parse_multipart(request.body, request.headers.get("Content-Type", ""))
        if not fields or fields[-1][0] != "file":
            raise OssError(400, "InvalidArgument", "The file must be the last form field.")
        form = {name: value.decode("utf-8", "replace") for name, value in fields[:-1]}
        content = fields[-1][1]
        for required in ("OSSAccessKeyId", "Signature", "policy", "key"):
            if not form.get(required):
                raise OssError(400, "InvalidArgument", f"The form field {required} is missing.")
        if form["OSSAccessKeyId"] != self._oss_access_key_id:
            raise OssError(
                403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records."
            )
        if not hmac.compare_digest(form["Signature"], self._sign(form["policy"])):
            raise OssError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        policy = json.loads(base64.b64decode(form["policy"]))
        expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        if datetime.now(timezone.utc) >= expiration:
            raise OssError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        for condition in policy["conditions"]:
            self._check_policy_condition(condition, form, content)
        key = form["key"]
        with self._lock:
            if key in self._uploads and form.get("x-oss-forbid-overwrite", "").lower() == "true":
                raise OssError(
                    409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten."
                )
            self._uploads[key] = content
            self._upload_models[key] = policy["model"]
        status = 200 if form.get("success_action_status") == "200" else 204  # OSS's default success is 204
        return Response(status, headers={"x-oss-request-id": _oss_request_id()})

    @staticmethod
    def _check_policy_condition(condition: list | dict, form: dict[str, str], content: bytes) -> None:
        condition_failed = OssError(
            403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
        )
        if isinstance(condition, dict):
            if any(form.get(name) != value for name, value in condition.items()):
                raise condition_failed
        elif condition[0] == "content-length-range":
            if not condition[1] <= len(content) <= condition[2]:
                raise OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        elif condition[0] == "starts-with":
            if not form.get(condition[1].removeprefix("$"), "").startswith(condition[2]):
                raise condition_failed

    # ---------------------------------------------------------------- results

    @staticmethod
    def _result_string_to_sign(task_id: str, slot: int, expires: int) -> str:
        """OSS's V1 string-to-sign for a presigned GET."""
        return f"GET\n\n\n{expires}\n/results/{task_id}/{slot}.png"

    def _result_url(self, task: TaskRecord, slot: int) -> str:
        expires = int(task.results_expire_at)
        signature = self._sign(self._result_string_to_sign(task.task_id, slot, expires))
        return (
            f"{self.root_url}/results/{task.task_id}/{slot}.png"
            f"?Expires={expires}&OSSAccessKeyId={self._oss_access_key_id}&Signature={quote(signature, safe='')}"
        )

    def _result_image(self, request: RecordedRequest, task_id: str, slot: int) -> Response:
        query = request.query
        try:
            expires = int(query.get("Expires", ""))
        except ValueError:
            raise OssError(
                403, "AccessDenied", "You have no right to access this object because of bucket acl."
            ) from None
        expected = self._sign(self._result_string_to_sign(task_id, slot, expires))
        if query.get("OSSAccessKeyId") != self._oss_access_key_id or not hmac.compare_digest(
            query.get("Signature", ""), expected
        ):
            raise OssError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        with self._lock:
            task = self._tasks.get(task_id)
            png = task.result_pngs.get(slot) if task else None
            if png is None:
                raise OssError(404, "NoSuchKey", "The specified key does not exist.")
            if time.time() >= min(expires, task.results_expire_at):
                raise OssError(403, "AccessDenied", "Request has expired.")
        return Response(200, png, "image/png", {"x-oss-request-id": _oss_request_id()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a local DashScope image-synthesis stand-in until Ctrl-C.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--key", default="sk-demo", help="the API key clients must send as 'Authorization: Bearer <key>'"
    )
    parser.add_argument("--running-seconds", type=float, default=5.0, help="how long each task stays RUNNING")
    args = parser.parse_args(argv)
    with DashScopeStandIn(api_key=args.key, port=args.port) as standin:
        standin.running_seconds = args.running_seconds
        print(f"DashScope stand-in on {standin.base_url} (API key {args.key}); Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
