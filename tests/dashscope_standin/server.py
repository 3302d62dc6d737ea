"""The stand-in's facade: a real HTTP server on 127.0.0.1 with DashScope's routes, its knobs, its fault injection
and what tests inspect. The concepts behind it live beside it: validation, tasks, storage, results, painting."""

from __future__ import annotations

import hashlib
import threading
import time
import traceback
import uuid
from collections import deque
from http.server import ThreadingHTTPServer
from typing import Any

from tests.dashscope_standin.multimodal import (GENERATION_MODELS, GenerationRecord, Generations,
                                                generation_body_validate, generation_request_check)
from tests.dashscope_standin.painting import task_outcome_produce
from tests.dashscope_standin.results import NOT_AN_IMAGE, ResultLinks, corrupt_fault, failure_fault, redirect_fault
from tests.dashscope_standin.routes import route_find
from tests.dashscope_standin.storage import OSS_UPLOAD_PATH, Signer, TemporaryStorage
from tests.dashscope_standin.tasks import SlidingWindow, TaskBoard, TaskRecord
from tests.dashscope_standin.validation import (MODEL_RULES, WANX_IMAGEEDIT, WANX_X_PAINTING, api_key_check,
                                                create_body_validate, create_request_check)
from tests.dashscope_standin.wire import (MSG_DATA_INSPECTION, MSG_INTERNAL_ERROR, MSG_RATE_LIMITED, ApiError, Handler,
                                          OssError, RecordedRequest, Response, api_error_response,
                                          gateway_error_response, json_response, new_request_id, oss_error_response,
                                          request_record)

LIFECYCLE_TICK_SECONDS = 0.02
# How often serve_forever looks for a shutdown request; the default 0.5 s would slow every test's teardown.
SHUTDOWN_POLL_SECONDS = 0.02


class DashScopeStandIn:
    """Serves DashScope's async image-synthesis and sync Qwen-Image-Edit contracts on 127.0.0.1; use as a
    context manager.

    Knobs (plain attributes, read whenever they matter): ``pending_seconds``, ``running_seconds``,
    ``generation_seconds`` (how long a sync call blocks), ``submit_rps``, ``concurrency`` (tasks or sync calls
    running per model), ``query_qps``, ``result_ttl_seconds``, ``policy_ttl_seconds``, ``max_upload_mb``,
    ``fail_slots``. Counters: ``creates_accepted`` (create calls that made a task, i.e. billable ones),
    ``generations_answered`` (sync calls that drew their answer: billable, even if the caller hung up),
    ``throttled``, ``result_downloads``, ``result_bytes_sent``. Inspection: ``requests``, ``tasks`` (each with
    ``received_base`` / ``received_mask``), ``generations`` (each with ``received_images``),
    ``running_timeline``, ``uploads``.
    Fault injection: the methods below, each documented.
    """

    def __init__(self, api_key: str = "sk-test", port: int = 0):
        self.api_key = api_key
        self.pending_seconds = 0.0
        self.running_seconds = 1.0
        self.generation_seconds = 1.0
        # Documented limits per main account (reference section 8); Qwen-Image-Edit's are not in the reference,
        # so its models are taken to share wanx2.1-imageedit's.
        self.submit_rps = {WANX_X_PAINTING: 2, WANX_IMAGEEDIT: 2}
        self.concurrency = {WANX_X_PAINTING: 1, WANX_IMAGEEDIT: 2}
        for limits in (self.submit_rps, self.concurrency):
            limits.update(dict.fromkeys(GENERATION_MODELS, limits[WANX_IMAGEEDIT]))
        self.query_qps = 20
        self.result_ttl_seconds = 86400
        self.policy_ttl_seconds = 300  # validity of an upload policy (expire_in_seconds)
        self.max_upload_mb = 100  # max_file_size_mb of an upload policy
        self.fail_slots: dict[int, tuple[str, str]] = {}  # slot -> (code, message); read when a task is created
        self.creates_accepted = 0
        self._throttled = 0

        self._port = port
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._account_id = hashlib.sha256(api_key.encode()).hexdigest()[:16]
        signer = Signer()
        self._storage = TemporaryStorage(signer, self._account_id, self._lock)
        self._results = ResultLinks(signer, self._lock)
        result_link = lambda owner, slot: self._results.link(self.root_url, owner, slot)
        self._board = TaskBoard(
            self,
            self._lock,
            tuple(MODEL_RULES),
            produce=lambda task: task_outcome_produce(task, self._storage.input_fetch, self._lock),
            result_link=result_link,
        )
        self._generations = Generations(
            self,
            self._lock,
            fetch=self._storage.input_fetch,
            wait=self._stopped.wait,
            result_link=result_link,
        )
        self._requests: list[RecordedRequest] = []
        self._create_rates = {model: SlidingWindow() for model in (*MODEL_RULES, *GENERATION_MODELS)}
        self._query_rate = SlidingWindow()
        self._create_faults: deque[ApiError] = deque()
        self._standing_create_fault: ApiError | None = None
        self._query_faults: deque[tuple[int, str | None, str | None]] = deque()
        self._query_hangs: deque[float] = deque()
        self._create_answer_hangs: deque[float] = deque()

    # ---------------------------------------------------------------- server lifetime

    def start(self) -> "DashScopeStandIn":
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
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
        self._storage.close()

    def __enter__(self) -> "DashScopeStandIn":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _tick(self) -> None:
        while not self._stopped.wait(LIFECYCLE_TICK_SECONDS):
            self._board.advance()

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
        """Every task by id; ``received_base`` / ``received_mask`` hold the inputs as decoded (PIL images)."""
        return self._board.tasks

    @property
    def generations(self) -> dict[str, GenerationRecord]:
        """Every sync Qwen-Image-Edit call by the id in its result links."""
        return self._generations.records

    @property
    def generations_answered(self) -> int:
        return self._generations.answered

    @property
    def throttled(self) -> int:
        """Calls refused with 429: over a rate limit, or sync calls over their model's running limit."""
        return self._throttled + self._generations.throttled

    @property
    def running_timeline(self) -> list[tuple[float, float, str]]:
        """(started_at, ended_at, task_id) of every task that has finished running, in start order."""
        return self._board.timeline

    @property
    def uploads(self) -> dict[str, bytes]:
        return self._storage.files

    @property
    def result_downloads(self) -> int:
        """GETs of result links, whatever they were answered."""
        return self._results.downloads

    @property
    def result_bytes_sent(self) -> int:
        """Bytes of result bodies written to clients; a streamed body counts only what the client took."""
        return self._results.bytes_sent

    # ---------------------------------------------------------------- fault injection: create and query

    def fail_next_creates(
        self, count: int, status: int = 500, code: str = "InternalError", message: str = MSG_INTERNAL_ERROR
    ) -> None:
        """The next `count` create requests (or sync Qwen calls) with valid headers are answered with this error
        and create nothing."""
        with self._lock:
            self._create_faults.extend(ApiError(status, code, message) for _ in range(count))

    def fail_creates_always(self, status: int = 500, code: str = "InternalError", message: str = MSG_INTERNAL_ERROR):
        """Every create request (or sync Qwen call) with valid headers gets this error and creates nothing, until
        :meth:`stop_failing_creates`; queued :meth:`fail_next_creates` errors go first."""
        with self._lock:
            self._standing_create_fault = ApiError(status, code, message)

    def stop_failing_creates(self) -> None:
        """Creates work again: drops the standing error and any queued ones."""
        with self._lock:
            self._standing_create_fault = None
            self._create_faults.clear()

    def fail_next_queries(self, count: int, status: int = 502, code: str | None = None, message: str | None = None):
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

    # ---------------------------------------------------------------- fault injection: tasks

    def fail_next_tasks(
        self, count: int, code: str = "DataInspectionFailed", message: str = MSG_DATA_INSPECTION
    ) -> None:
        """The next `count` created tasks queue and run as usual (without fetching inputs), then end FAILED.

        The query then shows HTTP 200 with ``output.code`` = `code` and ``output.message`` = `message`.
        """
        self._board.failures_queue(count, code, message)

    def suspend_next_tasks(self, count: int, seconds: float, after: float = 0.0) -> None:
        """The next `count` created tasks go SUSPENDED `after` seconds into their run, for `seconds`, then resume.

        A query shows ``task_status: "SUSPENDED"`` (non-final, as the SDK treats it) with the task's
        ``scheduled_time``. A suspended task keeps its running slot, and its pause adds to its run.
        """
        self._board.suspensions_queue(count, seconds, after)

    def end_running_tasks_now(self) -> None:
        """RUNNING tasks end once drawn, whatever ``running_seconds`` they began with (a test held them to look)."""
        self._board.running_end_now()

    def suspend_task(self, task_id: str, seconds: float) -> None:
        """Suspends one task for `seconds`: a RUNNING one at once, a PENDING one as it starts.

        Raises ValueError for an unknown or ended task, or one already given a pause.
        """
        self._board.task_suspend(task_id, seconds)

    # ---------------------------------------------------------------- fault injection: result downloads

    def expire_results_now(self) -> None:
        """Every result link issued so far answers 403 from now on, as OSS does after the 24 h validity."""
        self._board.results_expire()
        self._generations.results_expire()

    def fail_result_downloads(self, status: int = 403, count: int = 1) -> None:
        """The next `count` downloads of valid result links get OSS's XML error for `status`
        (403, 404, 500 or 503); the ones after that get the image again."""
        self._results.faults_add(failure_fault(status), count)

    def redirect_results_to(self, url: str, count: int | None = None) -> None:
        """Result links answer ``302 Found`` with ``Location: url``: the next `count` downloads, or every one."""
        self._results.faults_add(redirect_fault(url), count)

    def oversize_results(
        self, bytes: int = 200 * 1024 * 1024, count: int | None = None, declare_length: bool = True
    ) -> None:
        """Result links answer 200 ``image/png`` with a body of `bytes` bytes: the real PNG, then zeros.

        The body is streamed a megabyte at a time and never built in memory; ``result_bytes_sent`` shows how
        much of it the client took. With `declare_length` False it goes chunked, without a Content-Length.
        Applies to the next `count` downloads, or every one.
        """
        self._results.faults_add(self._results.oversize_fault(bytes, declare_length), count)

    def corrupt_results(
        self, count: int | None = None, body: bytes = NOT_AN_IMAGE, content_type: str = "image/png"
    ) -> None:
        """Result links answer 200 with `body` (an HTML page by default) labelled `content_type`, so only
        decoding it shows that it is not a picture. Applies to the next `count` downloads, or every one."""
        self._results.faults_add(corrupt_fault(body, content_type), count)

    def serve_results_normally(self) -> None:
        """Drops every result-download fault, queued or standing."""
        self._results.faults_clear()

    # ---------------------------------------------------------------- request dispatch

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        """Answers one HTTP request; called by the handler thread."""
        request = request_record(method, raw_path, headers, body)
        with self._lock:
            self._requests.append(request)
        try:
            return self._route(request)
        except OssError as error:
            return oss_error_response(error)
        except ApiError as error:
            return api_error_response(error)
        except Exception as error:  # a stand-in bug must surface as an answer, not a dropped connection
            traceback.print_exc()
            return api_error_response(ApiError(500, "InternalError", f"DashScope stand-in bug: {error!r}"))

    def _route(self, request: RecordedRequest) -> Response:
        route = route_find(request)
        if route.needs_key:
            api_key_check(request, self.api_key)
        return getattr(self, route.handler_name)(request, **route.path_parameters)

    def _task_create(self, request: RecordedRequest) -> Response:
        body = create_request_check(request)
        self._create_fault_raise()
        oss_resolve = request.headers.get("X-DashScope-OssResourceResolve") == "enable"
        model, input_, parameters = create_body_validate(body, oss_resolve)
        with self._lock:
            now = time.time()
            self._board.advance(now)
            self._rate_admit(self._create_rates[model], now, self.submit_rps.get(model, 2))
            task = self._board.task_create(str(uuid.uuid4()), model, input_, parameters, new_request_id(), now)
            self.creates_accepted += 1
            hang = self._create_answer_hangs.popleft() if self._create_answer_hangs else None
        if hang:
            time.sleep(hang)
        return json_response(
            200, {"output": {"task_status": "PENDING", "task_id": task.task_id}, "request_id": task.request_id}
        )

    def _create_fault_raise(self) -> None:
        with self._lock:
            fault = self._create_faults.popleft() if self._create_faults else self._standing_create_fault
        if fault is not None:
            raise fault

    def _generation(self, request: RecordedRequest) -> Response:
        body = generation_request_check(request)
        self._create_fault_raise()
        oss_resolve = request.headers.get("X-DashScope-OssResourceResolve") == "enable"
        model, images, text, parameters = generation_body_validate(body, oss_resolve)
        with self._lock:
            self._rate_admit(self._create_rates[model], time.time(), self.submit_rps.get(model, 2))
        answer = self._generations.generation_call(model, images, text, parameters, new_request_id())
        return json_response(200, answer)

    def _task_query(self, request: RecordedRequest, task_id: str) -> Response:
        with self._lock:
            hang = self._query_hangs.popleft() if self._query_hangs else None
        if hang:
            time.sleep(hang)
        with self._lock:
            if self._query_faults:
                status, code, message = self._query_faults.popleft()
                if code is None:
                    return gateway_error_response(status)
                raise ApiError(status, code, message)
            now = time.time()
            self._rate_admit(self._query_rate, now, self.query_qps)
            return json_response(200, {"request_id": new_request_id(), **self._board.query_answer(task_id)})

    def _rate_admit(self, window: SlidingWindow, now: float, limit: int) -> None:
        if not window.admit(now, limit):
            self._throttled += 1
            raise ApiError(429, "Throttling.RateQuota", MSG_RATE_LIMITED)

    def _task_cancel(self, request: RecordedRequest, task_id: str) -> Response:
        self._board.task_cancel(task_id)
        return json_response(200, {"request_id": new_request_id()})

    def _tasks_list(self, request: RecordedRequest) -> Response:
        api_key_id = hashlib.sha256(self.api_key.encode()).hexdigest()[:8]
        page = self._board.list_page(request.query, api_key_id, self._account_id)
        return json_response(200, {"request_id": new_request_id(), **page})

    def _upload_policy(self, request: RecordedRequest) -> Response:
        upload_host = f"{self.root_url}{OSS_UPLOAD_PATH}"
        return self._storage.policy_issue(request, upload_host, self.policy_ttl_seconds, self.max_upload_mb)

    def _upload(self, request: RecordedRequest) -> Response:
        return self._storage.upload_accept(request)

    def _result(self, request: RecordedRequest, task_id: str, slot: str) -> Response:
        owner = self._board.task_get(task_id) or self._generations.record_get(task_id)
        return self._results.serve(request, task_id, int(slot), owner)
