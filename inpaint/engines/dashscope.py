"""DashScope's async image-synthesis API over requests, and the two cloud engines built on it.

Contract: /work/shared/seeds/wanx-x-painting-api-reference.txt and DESIGN.md. Every call has
a timeout. Errors are sorted into transient (retry with back-off) and permanent (end the job).
The API key is only ever put in the Authorization header; it is never logged.
"""

from __future__ import annotations

import datetime
import logging
import math
import mimetypes
import os
import threading
import zoneinfo

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from django.utils.translation import gettext_lazy as _
from urllib3.exceptions import NewConnectionError

from inpaint import options
from inpaint.engines.base import (Engine, EngineError, EngineLimits, JobInput, ListedTask, SlotResult, TaskState,
                                  TaskStatus)
from inpaint.engines.dashscope_messages import dashscope_error_explain
from inpaint.engines.service_regions import BEIJING

logger = logging.getLogger(__name__)

CREATE_PATH = "/services/aigc/image2image/image-synthesis"
GENERATION_PATH = "/services/aigc/multimodal-generation/generation"
# DashScope reports times in the Beijing region's local time.
SERVICE_TIMEZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
LIST_TIME_FORMAT = "%Y%m%d%H%M%S"

TRANSIENT_HTTP_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_CODES = frozenset({"RequestTimeOut", "ModelUnavailable", "SystemError"})
# 429s that are about money, not rate: retrying cannot help.
BILLING_CODES = frozenset(
    {"Arrearage", "PrepaidBillOverdue", "PostpaidBillOverdue", "CommodityNotPurchased", "AllocationQuota.FreeTierOnly"}
)


class DashScopeError(EngineError):
    """An error answer (or no answer) from DashScope: an ``EngineError`` that also keeps the HTTP status and request id.

    A 429 that is about rate (not money) is ``throttled``. ``maybe_created`` is True when a
    create call failed after sending: the task may exist, so it must not simply be sent again.
    """

    def __init__(self, *, code: str, message: str, http_status: int = 0, request_id: str = "",
                 transient: bool = False, maybe_created: bool = False):
        super().__init__(code=code, message=message, transient=transient,
                         throttled=http_status == 429 and transient, maybe_created=maybe_created)
        self.http_status = http_status
        self.request_id = request_id


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when requests gave up before a connection existed, so no request reached the service."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def error_is_transient(http_status: int, code: str, message: str) -> bool:
    """Reference §5: rate limits, timeouts and server faults pass; bad input, keys and billing do not."""
    if code in BILLING_CODES or "DataInspection" in code:
        return False
    if code == "Throttling.AllocationQuota" and "free" in message.lower():
        return False  # "Free allocated quota exceeded." is the free quota running out.
    if http_status in TRANSIENT_HTTP_STATUSES:
        return True
    return code in TRANSIENT_CODES or code.startswith("InternalError")


def parse_service_time(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, TIME_FORMAT).replace(tzinfo=SERVICE_TIMEZONE)
    except ValueError:
        return None


def task_state_from_body(body: dict) -> TaskState:
    output = body.get("output") or {}
    results = [
        SlotResult(url=item.get("url", ""), code=item.get("code", ""), message=item.get("message", ""))
        for item in output.get("results") or []
    ]
    usage = body.get("usage") or {}
    return TaskState(
        status=output.get("task_status", TaskStatus.UNKNOWN),
        task_id=output.get("task_id", ""),
        request_id=body.get("request_id", ""),
        results=results,
        code=output.get("code", ""),
        message=output.get("message", ""),
        submit_time=parse_service_time(output.get("submit_time")),
        scheduled_time=parse_service_time(output.get("scheduled_time")),
        end_time=parse_service_time(output.get("end_time")),
        task_metrics=output.get("task_metrics"),
        image_count=usage.get("image_count"),
    )


# Raised before anything was sent: the configuration is wrong, and retrying cannot help.
_CONFIGURATION_ERRORS = (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL,
                         requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)


def _request_failed(exc: requests.RequestException, *, creates: bool) -> DashScopeError:
    """The DashScopeError for a call that got no answer, named by the exception's class only."""
    name = exc.__class__.__name__
    if isinstance(exc, _CONFIGURATION_ERRORS):
        return DashScopeError(code="ClientConfiguration", message=name)
    if isinstance(exc, requests.ConnectTimeout):
        return DashScopeError(code="ConnectTimeout", message=name, transient=True)
    if isinstance(exc, requests.Timeout):
        return DashScopeError(code="ReadTimeout", message="DashScope did not answer in time", transient=True,
                              maybe_created=creates)
    # A connection that was never made sent nothing; one broken after sending may have created a task.
    never_sent = isinstance(exc, requests.ConnectionError) and _never_connected(exc)
    return DashScopeError(code="ConnectionError", message=name, transient=True,
                          maybe_created=creates and not never_sent)


# One keep-alive session per process and thread: a poll every second, or the create that follows a freed
# running slot, reuses its connection (and its TLS) to the service instead of opening a new one.
_sessions = threading.local()


def keep_alive_session() -> requests.Session:
    if getattr(_sessions, "pid", None) != os.getpid():  # a forked worker never shares its parent's sockets
        _sessions.session, _sessions.pid = requests.Session(), os.getpid()
    return _sessions.session


class DashScopeClient:
    """The task API calls the app needs: create, query, cancel, list, and temporary uploads."""

    def __init__(self, *, base_url: str, api_key: str, timeout: tuple[float, float], session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()

    @classmethod
    def from_settings(cls, *, read_timeout: float | None = None) -> "DashScopeClient":
        """The configured client; ``read_timeout`` replaces DASHSCOPE_READ_TIMEOUT for a call known to be long."""
        connect, read = settings.DASHSCOPE_TIMEOUT
        return cls(base_url=settings.DASHSCOPE_BASE_URL, api_key=settings.DASHSCOPE_API_KEY,
                   timeout=(connect, read_timeout or read), session=keep_alive_session())

    @sensitive_variables("headers", "kwargs")
    def _call(self, method: str, path: str, *, creates: bool = False, headers: dict | None = None, **kwargs) -> dict:
        """One call to the API, signed with the key. Every failure becomes a DashScopeError whose
        message is the exception's class name or the service's answer, never the request: a
        requests exception can quote the Authorization header."""
        headers = {"Authorization": f"Bearer {self.api_key}", **(headers or {})}
        try:
            response = self.session.request(method, self.base_url + path, headers=headers, timeout=self.timeout,
                                            **kwargs)
        except requests.RequestException as exc:
            raise _request_failed(exc, creates=creates) from None
        try:
            body = response.json()
        except ValueError:
            body = {"code": "Unknown", "message": response.text[:200]}
        if not isinstance(body, dict):
            body = {"code": "Unknown", "message": str(body)[:200]}
        if response.status_code != 200:
            code = body.get("code") or f"HTTP{response.status_code}"
            message = body.get("message") or body.get("msg") or response.reason or ""
            logger.info("DashScope %s %s answered %s %s", method, path.split("?")[0], response.status_code, code)
            raise DashScopeError(code=code, message=message, http_status=response.status_code,
                                 request_id=body.get("request_id", ""),
                                 transient=error_is_transient(response.status_code, code, message))
        return body

    def create_task(self, *, model: str, input: dict, parameters: dict, oss_resolve: bool = False) -> TaskState:
        headers = {"Content-Type": "application/json", "X-DashScope-Async": "enable"}
        if oss_resolve:
            headers["X-DashScope-OssResourceResolve"] = "enable"
        body = self._call("POST", CREATE_PATH, creates=True, headers=headers,
                          json={"model": model, "input": input, "parameters": parameters})
        state = task_state_from_body(body)
        if not state.task_id:
            raise DashScopeError(code="NoTaskId", message="DashScope accepted the task but returned no task id",
                                 request_id=state.request_id)
        return state

    def generate(self, *, model: str, input: dict, parameters: dict) -> dict:
        """One synchronous multimodal-generation call; the answer's body. Never with ``X-DashScope-Async``: the
        service answers 403 to it (reference section 9). Paid like a create: a failure after sending may be billed."""
        return self._call("POST", GENERATION_PATH, creates=True, headers={"Content-Type": "application/json"},
                          json={"model": model, "input": input, "parameters": parameters})

    def query_task(self, task_id: str) -> TaskState:
        return task_state_from_body(self._call("GET", f"/tasks/{task_id}"))

    def cancel_task(self, task_id: str) -> None:
        self._call("POST", f"/tasks/{task_id}/cancel")

    def list_tasks(self, *, model: str, start: datetime.datetime, end: datetime.datetime, page_size: int = 100) -> list[dict]:
        """Every task of ``model`` created between start and end (the service allows a window of at most 24 h)."""
        tasks: list[dict] = []
        page_no = 1
        while True:
            params = {
                "model_name": model, "page_no": page_no, "page_size": page_size,
                "start_time": start.astimezone(SERVICE_TIMEZONE).strftime(LIST_TIME_FORMAT),
                "end_time": end.astimezone(SERVICE_TIMEZONE).strftime(LIST_TIME_FORMAT),
            }
            body = self._call("GET", "/tasks", params=params)
            tasks.extend(body.get("data") or [])
            if page_no >= int(body.get("total_page") or 1):
                return tasks
            page_no += 1

    def upload_policy(self, model: str) -> dict:
        body = self._call("GET", "/uploads", params={"action": "getPolicy", "model": model})
        return body["data"]

    def upload_file(self, policy: dict, name: str, content: bytes) -> str:
        """Store a file in DashScope's temporary storage; returns its ``oss://`` URL (valid 48 h)."""
        key = f"{policy['upload_dir']}/{name}"
        fields = {
            "OSSAccessKeyId": policy["oss_access_key_id"],
            "Signature": policy["signature"],
            "policy": policy["policy"],
            "key": key,
            "x-oss-object-acl": policy["x_oss_object_acl"],
            "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
            "success_action_status": "200",
            "x-oss-content-type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        }
        try:
            # requests puts `files` after `data`, and OSS needs the file as the last field.
            response = self.session.post(policy["upload_host"], data=fields, files={"file": (name, content)},
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            raise DashScopeError(code="UploadFailed", message=exc.__class__.__name__, transient=True) from None
        if response.status_code != 200:
            raise DashScopeError(code="UploadFailed", message=f"temporary storage answered {response.status_code}",
                                 http_status=response.status_code,
                                 transient=response.status_code in TRANSIENT_HTTP_STATUSES or response.status_code == 403)
        return f"oss://{key}"


class DashScopeEngine(Engine):
    """A cloud model on DashScope's async image-synthesis endpoint."""

    remote = True
    model = ""
    submit_rate = 2  # task submissions a second per account (reference §8)
    running_limit = 1  # tasks in progress at once per account
    # The wanx models are documented for China (Beijing) only (reference section 6).
    service_regions = frozenset({BEIJING})

    def client(self) -> DashScopeClient:
        return DashScopeClient.from_settings()

    def is_configured(self) -> bool:
        return bool(settings.DASHSCOPE_API_KEY)

    def submit(self, job_input: JobInput) -> TaskState:
        client = self.client()
        base_url, mask_url, via_oss = self._image_urls(client, job_input)
        return client.create_task(model=self.model, input=self.task_input(job_input, base_url, mask_url),
                                  parameters=self.task_parameters(job_input), oss_resolve=via_oss)

    def _image_urls(self, client: DashScopeClient, job_input: JobInput) -> tuple[str, str, bool]:
        """The base's and the mask's URLs ("" for the mask of a function that takes none), and whether they
        are in DashScope's temporary storage."""
        # Only repainting reads a mask; the region's mask of the other functions is the paste-back's alone.
        has_mask = bool(job_input.mask_image) and job_input.function == options.FUNCTION_EDIT
        if job_input.link:
            return job_input.link(job_input.base_name), job_input.link(job_input.mask_name) if has_mask else "", False
        policy = client.upload_policy(self.model)
        return (client.upload_file(policy, _object_name(job_input.base_name), job_input.base_image),
                client.upload_file(policy, _object_name(job_input.mask_name), job_input.mask_image) if has_mask
                else "", True)

    def poll(self, task_id: str) -> TaskState:
        return self.client().query_task(task_id)

    def cancel(self, task_id: str) -> None:
        self.client().cancel_task(task_id)

    def list_tasks(self, *, start: datetime.datetime, end: datetime.datetime) -> list[ListedTask]:
        listed = self.client().list_tasks(model=self.model, start=start, end=end)
        return [ListedTask(task_id=task["task_id"], created_ms=int(task.get("gmt_create") or 0),
                           request_id=task.get("request_id", "")) for task in listed]

    def explain_error(self, code: str, message: str) -> str:
        return dashscope_error_explain(code, message)

    def task_input(self, job_input: JobInput, base_url: str, mask_url: str) -> dict:
        raise NotImplementedError

    def task_parameters(self, job_input: JobInput) -> dict:
        raise NotImplementedError


def _object_name(storage_name: str) -> str:
    # Storage names are jobs/<uuid>/base.jpg: one flat, unique object name per file, because
    # temporary storage forbids overwriting and every object of a policy shares one folder.
    return storage_name.replace("/", "-")


class WanxPaintingEngine(DashScopeEngine):
    key = model = "wanx-x-painting"
    label = _("Wanx inpainting (cloud)")
    limits = EngineLimits(min_side=257, max_side=4095, max_bytes=10 * 1024 * 1024, max_prompt_chars=75)
    # The model paints only these sizes; the work region is given one of their shapes.
    output_shapes = ((1024, 1024), (720, 1280), (1280, 720))

    def send_size(self, width: int, height: int) -> tuple[int, int]:
        shape = math.log(width / height)
        return min(self.output_shapes, key=lambda size: abs(math.log(size[0] / size[1]) - shape))

    def task_input(self, job_input: JobInput, base_url: str, mask_url: str) -> dict:
        return {"prompt": job_input.prompt, "base_image_url": base_url, "mask_image_url": mask_url}

    def task_parameters(self, job_input: JobInput) -> dict:
        # The stored mask is already black and white (white = repaint), so mask_color stays at its default.
        width, height = job_input.size
        return {"style": job_input.style, "size": f"{width}*{height}", "n": job_input.n}


class WanxImageEditEngine(DashScopeEngine):
    key = model = "wanx2.1-imageedit"
    label = _("Wanx 2.1 image edit (cloud, paid)")
    running_limit = 2
    # Reference §7.2: this function takes no style.
    controls = options.CONTROLS - {"style", "negative_prompt"}
    limits = EngineLimits(min_side=512, max_side=4096, max_bytes=10 * 1024 * 1024, max_prompt_chars=800)

    def send_size(self, width: int, height: int) -> tuple[int, int]:
        # The region goes at its own resolution when it fits the model's sides, scaled only when it does not.
        scale = min(1.0, self.limits.max_side / max(width, height))
        scale = max(scale, self.limits.min_side / min(width, height))
        return (min(self.limits.max_side, max(self.limits.min_side, round(width * scale))),
                min(self.limits.max_side, max(self.limits.min_side, round(height * scale))))

    def task_input(self, job_input: JobInput, base_url: str, mask_url: str) -> dict:
        if job_input.function == options.FUNCTION_EXPAND:
            return {"function": options.FUNCTION_EXPAND, "prompt": job_input.prompt, "base_image_url": base_url}
        if job_input.function == options.FUNCTION_UPSCALE:
            return {"function": options.FUNCTION_UPSCALE, "base_image_url": base_url,
                    "prompt": job_input.prompt or options.UPSCALE_PROMPT}
        if job_input.function == options.FUNCTION_REMOVE_TEXT:
            return {"function": options.FUNCTION_REMOVE_TEXT, "base_image_url": base_url,
                    "prompt": job_input.prompt or options.REMOVE_TEXT_PROMPT}
        return {"function": options.FUNCTION_EDIT, "prompt": job_input.prompt,
                "base_image_url": base_url, "mask_image_url": mask_url}

    def task_parameters(self, job_input: JobInput) -> dict:
        # Reference §7.2: every function takes n and seed; expand also its four sides' scales, super_resolution its
        # upscale factor.
        return {"n": job_input.n, "seed": job_input.seed, **job_input.function_parameters}
