"""Tests of the DashScope stand-in itself: it must follow the DashScope contract, or the app's tests prove nothing."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from PIL import Image, UnidentifiedImageError

from tests.dashscope_standin import (
    MARK_COLOUR,
    MSG_DOWNLOAD_FAILED,
    MSG_INTERNAL_ERROR,
    MSG_RATE_LIMITED,
    MSG_SLOT_TIMEOUT,
    DashScopeStandIn,
    fill_colour,
    format_task_time,
    mark_boxes,
    shift_colour,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-test"
TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
BASE_COLOUR = (40, 90, 160)


class ImageHost:
    """A tiny HTTP server handing out fixed bytes by path, standing in for wherever the app publishes its inputs."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.hits: list[tuple[str, float]] = []
        self.delay_seconds = 0.0
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host.hits.append((self.path, time.time()))
                time.sleep(host.delay_seconds)
                body = host.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def publish(self, path: str, data: bytes) -> str:
        self.files[path] = data
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def png_bytes(size: tuple[int, int], colour=BASE_COLOUR, box=None, box_colour=(255, 255, 255), format="PNG") -> bytes:
    """A solid image, optionally with a rectangle `box` = (left, top, right, bottom) in `box_colour`."""
    image = Image.new("RGB", size, colour)
    if box:
        image.paste(box_colour, box)
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def mask_bytes(size: tuple[int, int], box) -> bytes:
    """Black background, white rectangle to repaint."""
    return png_bytes(size, colour=(0, 0, 0), box=box)


@pytest.fixture
def ds():
    with DashScopeStandIn(api_key=API_KEY) as standin:
        standin.running_seconds = 0.2
        yield standin


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # a proxy from the environment must not intercept 127.0.0.1
    yield session
    session.close()


@pytest.fixture
def images():
    host = ImageHost()
    yield host
    host.close()


@pytest.fixture
def inputs(images):
    """URLs of a 400x300 base image and a mask whose left half is white."""
    return {
        "base_image_url": images.publish("/base.png", png_bytes((400, 300))),
        "mask_image_url": images.publish("/mask.png", mask_bytes((400, 300), (0, 0, 200, 300))),
    }


@pytest.fixture
def edit_inputs(images):
    """URLs of a 512x512 base image (the smallest wanx2.1-imageedit takes) and a mask with a white top-left square."""
    return {
        "base_image_url": images.publish("/edit-base.png", png_bytes((512, 512))),
        "mask_image_url": images.publish("/edit-mask.png", mask_bytes((512, 512), (0, 0, 100, 100))),
    }


def auth_headers(**extra):
    return {"Authorization": f"Bearer {API_KEY}", **extra}


def create_headers(**extra):
    return auth_headers(**{"X-DashScope-Async": "enable", "Content-Type": "application/json", **extra})


def painting_body(inputs, prompt="a red balloon", **parameters):
    return {"model": "wanx-x-painting", "input": {"prompt": prompt, **inputs}, "parameters": parameters}


def imageedit_body(inputs, prompt="make it a red balloon", **parameters):
    return {
        "model": "wanx2.1-imageedit",
        "input": {"function": "description_edit_with_mask", "prompt": prompt, **inputs},
        "parameters": parameters,
    }


OSS_RESOLVE_HEADERS = create_headers(**{"X-DashScope-OssResourceResolve": "enable"})


def create(ds, http, body, headers=None):
    url = f"{ds.base_url}/services/aigc/image2image/image-synthesis"
    return http.post(url, json=body, headers=headers or create_headers())


def create_task(ds, http, body, headers=None) -> str:
    response = create(ds, http, body, headers)
    assert response.status_code == 200, response.text
    return response.json()["output"]["task_id"]


def query(ds, http, task_id, **kwargs):
    return http.get(f"{ds.base_url}/tasks/{task_id}", headers=auth_headers(), **kwargs)


def wait_for_status(ds, task_id, *statuses, timeout=5.0):
    """Waits on the stand-in's own records, so waiting spends none of the query rate limit."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        task = ds.tasks.get(task_id)
        if task and task.status in statuses:
            return task
        time.sleep(0.01)
    raise AssertionError(f"task {task_id} never reached {statuses}: {ds.tasks.get(task_id)}")


def assert_error(response, status, code, message=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "request_id"}
    assert body["code"] == code
    uuid.UUID(body["request_id"])
    if message is not None:
        assert body["message"] == message


def fetch_image(http, url) -> Image.Image:
    response = http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


# ------------------------------------------------------------------ create


def test_create_answers_pending_task_and_records_request(ds, http, inputs):
    response = create(ds, http, painting_body(inputs, size="720*1280", n=2, style="<anime>"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"output", "request_id"}
    assert body["output"]["task_status"] == "PENDING"
    assert set(body["output"]) == {"task_status", "task_id"}
    uuid.UUID(body["output"]["task_id"])
    uuid.UUID(body["request_id"])
    assert ds.creates_accepted == 1
    task = ds.tasks[body["output"]["task_id"]]
    assert (task.model, task.input["prompt"], task.parameters["n"]) == ("wanx-x-painting", "a red balloon", 2)
    recorded = ds.requests[-1]
    assert (recorded.method, recorded.path) == ("POST", "/api/v1/services/aigc/image2image/image-synthesis")
    assert recorded.headers["x-dashscope-async"] == "enable"
    assert recorded.json["parameters"]["size"] == "720*1280"


def test_every_response_has_a_fresh_request_id(ds, http, inputs):
    first = create(ds, http, painting_body(inputs)).json()
    second = query(ds, http, first["output"]["task_id"]).json()
    assert first["request_id"] != second["request_id"]


@pytest.mark.parametrize(
    ("headers", "status", "code", "message"),
    [
        (
            {"X-DashScope-Async": "enable", "Content-Type": "application/json"},
            401,
            "InvalidApiKey",
            "No API-key provided.",
        ),
        (
            {"Authorization": "Bearer sk-wrong", "X-DashScope-Async": "enable", "Content-Type": "application/json"},
            401,
            "InvalidApiKey",
            "Invalid API-key provided.",
        ),
        (
            {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
            403,
            "AccessDenied",
            "current user api does not support synchronous calls",
        ),
        (
            {"Authorization": f"Bearer {API_KEY}", "X-DashScope-Async": "disable", "Content-Type": "application/json"},
            403,
            "AccessDenied",
            "current user api does not support synchronous calls",
        ),
        (
            {"Authorization": f"Bearer {API_KEY}", "X-DashScope-Async": "enable", "Content-Type": "text/plain"},
            400,
            "InvalidParameter",
            None,
        ),
    ],
)
def test_create_header_errors(ds, http, inputs, headers, status, code, message):
    response = create(ds, http, painting_body(inputs), headers=headers)
    assert_error(response, status, code, message)
    assert ds.creates_accepted == 0


def test_create_accepts_json_with_charset(ds, http, inputs):
    headers = create_headers(**{"Content-Type": "application/json; charset=utf-8"})
    response = create(ds, http, painting_body(inputs), headers=headers)
    assert response.status_code == 200


def test_create_rejects_a_body_that_is_not_json(ds, http):
    response = http.post(
        f"{ds.base_url}/services/aigc/image2image/image-synthesis", data=b"{not json", headers=create_headers()
    )
    assert_error(response, 400, "InvalidParameter")


@pytest.mark.parametrize(
    ("change", "status", "code", "message"),
    [
        (lambda b: b.update(model="wanx-nope"), 404, "ModelNotFound", None),
        (
            lambda b: b["parameters"].update(size="512*512"),
            400,
            "InvalidParameter",
            "The size is not match the allowed size ['1024*1024', '720*1280', '1280*720']",
        ),
        (lambda b: b["parameters"].update(style="<pixel art>"), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(n=5), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(n=0), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(mask_color=[[0, 0]]), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(mask_color=[[0, 0, 256]]), 400, "InvalidParameter", None),
        (lambda b: b["input"].pop("prompt"), 400, "InvalidParameter", "Field required: input.prompt"),
        (lambda b: b["input"].pop("mask_image_url"), 400, "InvalidParameter", "Field required: input.mask_image_url"),
        (lambda b: b.pop("input"), 400, "BadRequest.EmptyInput", None),
        (lambda b: b.pop("model"), 400, "BadRequest.EmptyModel", None),
        (
            lambda b: b["input"].update(base_image_url="http://127.0.0.1:9/图片.png"),
            400,
            "InvalidParameter",
            "The provided URL does not appear to be valid",
        ),
        (lambda b: b["input"].update(base_image_url="file:///etc/passwd"), 400, "InvalidParameter", None),
        (
            lambda b: b["input"].update(base_image_url="data:image/png;base64,iVBORw0KGgo="),
            400,
            "InvalidParameter",
            "The provided URL does not appear to be valid",
        ),
        (
            lambda b: b["input"].update(base_image_url="oss://dashscope-instant/x/base.png"),
            400,
            "InvalidParameter",
            "The provided URL does not appear to be valid",
        ),
    ],
)
def test_create_body_validation_for_x_painting(ds, http, inputs, change, status, code, message):
    body = painting_body(inputs)
    change(body)
    assert_error(create(ds, http, body), status, code, message)
    assert ds.creates_accepted == 0 and ds.tasks == {}


@pytest.mark.parametrize(
    ("change", "message_part"),
    [
        (lambda b: b["input"].pop("function"), "input.function"),
        (lambda b: b["input"].update(function="paint_everything"), "allowed function"),
        (lambda b: b["input"].update(function="stylization_all"), "not supported"),
        (lambda b: b["parameters"].update(seed=-1), "seed"),
        (lambda b: b["parameters"].update(n=7), "[1, 4]"),
        (lambda b: b["input"].pop("mask_image_url"), "input.mask_image_url"),
    ],
)
def test_create_body_validation_for_imageedit(ds, http, inputs, change, message_part):
    body = imageedit_body(inputs)
    change(body)
    response = create(ds, http, body)
    assert_error(response, 400, "InvalidParameter")
    assert message_part in response.json()["message"]


def test_long_prompts_are_accepted_and_truncated(ds, http, inputs):
    ds.submit_rps = {"wanx-x-painting": 5, "wanx2.1-imageedit": 5}
    painting = create_task(ds, http, painting_body(inputs, prompt="p" * 100))
    edit = create_task(ds, http, imageedit_body(inputs, prompt="e" * 900, seed=42))
    assert ds.tasks[painting].input["prompt"] == "p" * 75
    assert ds.tasks[edit].input["prompt"] == "e" * 800


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


# ------------------------------------------------------------------ temporary storage uploads


def get_policy(ds, http, model="wanx-x-painting") -> dict:
    params = {"action": "getPolicy", "model": model}
    response = http.get(f"{ds.base_url}/uploads", params=params, headers=auth_headers())
    assert response.status_code == 200, response.text
    return response.json()["data"]


def upload(http, policy: dict, name: str, content: bytes, **overrides):
    form = {
        "OSSAccessKeyId": policy["oss_access_key_id"],
        "Signature": policy["signature"],
        "policy": policy["policy"],
        "key": f"{policy['upload_dir']}/{name}",
        "x-oss-object-acl": policy["x_oss_object_acl"],
        "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
        "success_action_status": "200",
        "x-oss-content-type": "image/png",
        **overrides,
    }
    return http.post(policy["upload_host"], data=form, files={"file": (name, content, "image/png")})


def assert_oss_error(response, status, code, message=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/xml"
    assert f"<Code>{code}</Code>" in response.text
    assert "<RequestId>" in response.text
    if message is not None:
        assert f"<Message>{message}</Message>" in response.text


def test_upload_policy_shape(ds, http):
    params = {"action": "getPolicy", "model": "wanx-x-painting"}
    body = http.get(f"{ds.base_url}/uploads", params=params, headers=auth_headers()).json()
    assert set(body) == {"request_id", "data"}
    data = body["data"]
    assert set(data) == {
        "policy",
        "signature",
        "upload_dir",
        "upload_host",
        "expire_in_seconds",
        "max_file_size_mb",
        "capacity_limit_mb",
        "oss_access_key_id",
        "x_oss_object_acl",
        "x_oss_forbid_overwrite",
    }
    assert data["upload_host"] == f"http://127.0.0.1:{ds.port}/oss"
    assert (data["expire_in_seconds"], data["max_file_size_mb"]) == (300, 100)
    assert (data["x_oss_object_acl"], data["x_oss_forbid_overwrite"]) == ("private", "true")
    assert data["upload_dir"].startswith("dashscope-instant/")
    assert_error(http.get(f"{ds.base_url}/uploads", params={"action": "getPolicy", "model": "m"}), 401, "InvalidApiKey")


def test_upload_then_create_with_oss_urls(ds, http):
    policy = get_policy(ds, http)
    base = png_bytes((400, 300))
    mask = mask_bytes((400, 300), (0, 0, 200, 300))
    for name, content in (("base.png", base), ("mask.png", mask)):
        response = upload(http, policy, name, content)
        assert response.status_code == 200 and response.content == b""
        assert "Authorization" not in ds.requests[-1].headers
    base_key, mask_key = f"{policy['upload_dir']}/base.png", f"{policy['upload_dir']}/mask.png"
    assert ds.uploads[base_key] == base and ds.uploads[mask_key] == mask

    oss_inputs = {"base_image_url": f"oss://{base_key}", "mask_image_url": f"oss://{mask_key}"}
    without_resolve = create(ds, http, painting_body(oss_inputs))
    assert_error(without_resolve, 400, "InvalidParameter", "The provided URL does not appear to be valid")
    task_id = create_task(ds, http, painting_body(oss_inputs), headers=OSS_RESOLVE_HEADERS)
    assert wait_for_status(ds, task_id, "SUCCEEDED", "FAILED").status == "SUCCEEDED"


def test_oss_upload_is_bound_to_the_model_in_the_policy(ds, http):
    policy = get_policy(ds, http, model="wanx2.1-imageedit")
    upload(http, policy, "base.png", png_bytes((400, 300)))
    upload(http, policy, "mask.png", mask_bytes((400, 300), (0, 0, 10, 10)))
    oss_inputs = {
        "base_image_url": f"oss://{policy['upload_dir']}/base.png",
        "mask_image_url": f"oss://{policy['upload_dir']}/mask.png",
    }
    task_id = create_task(ds, http, painting_body(oss_inputs), headers=OSS_RESOLVE_HEADERS)
    task = wait_for_status(ds, task_id, "SUCCEEDED", "FAILED")
    assert (task.status, task.code, task.message) == ("FAILED", "BadRequest.InputDownloadFailed", MSG_DOWNLOAD_FAILED)


def test_upload_refusals(ds, http):
    policy = get_policy(ds, http)
    assert upload(http, policy, "a.png", b"first").status_code == 200

    assert_oss_error(upload(http, policy, "a.png", b"second"), 409, "FileAlreadyExists")
    assert ds.uploads[f"{policy['upload_dir']}/a.png"] == b"first"
    assert_oss_error(upload(http, policy, "b.png", b"x", Signature="AAAA"), 403, "SignatureDoesNotMatch")
    assert_oss_error(upload(http, policy, "b.png", b"x", OSSAccessKeyId="LTAIother"), 403, "InvalidAccessKeyId")
    assert_oss_error(upload(http, policy, "b.png", b"x", key="elsewhere/b.png"), 403, "AccessDenied")

    file_first = http.post(
        policy["upload_host"],
        files=[("file", ("c.png", b"x", "image/png")), ("key", (None, f"{policy['upload_dir']}/c.png"))],
    )
    assert_oss_error(file_first, 400, "InvalidArgument")

    ds.max_upload_mb = 0.001
    small_policy = get_policy(ds, http)
    assert_oss_error(upload(http, small_policy, "big.png", b"x" * 2000), 400, "EntityTooLarge")

    ds.policy_ttl_seconds = 0
    expired_policy = get_policy(ds, http)
    assert_oss_error(
        upload(http, expired_policy, "late.png", b"x"),
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )
    assert set(ds.uploads) == {f"{policy['upload_dir']}/a.png"}


def test_upload_keeps_binary_content_intact(ds, http):
    policy = get_policy(ds, http)
    content = bytes(range(256)) * 4 + b"\r\n--\r\n\r\n"
    assert upload(http, policy, "blob.bin", content).status_code == 200
    assert ds.uploads[f"{policy['upload_dir']}/blob.bin"] == content


# ------------------------------------------------------------------ results


def test_result_link_works_then_expires(ds, http, inputs):
    task_id = create_task(ds, http, painting_body(inputs, size="1280*720"))
    wait_for_status(ds, task_id, "SUCCEEDED")
    url = query(ds, http, task_id).json()["output"]["results"][0]["url"]

    link = rf"^http://127\.0\.0\.1:{ds.port}/results/{task_id}/0\.png\?Expires=\d+&OSSAccessKeyId=[^&]+&Signature="
    assert re.match(link, url)
    assert fetch_image(http, url).size == (1280, 720)
    assert_oss_error(http.get(url.replace("Signature=", "Signature=x")), 403, "SignatureDoesNotMatch")

    ds.expire_results_now()
    assert_oss_error(http.get(url), 403, "AccessDenied", "Request has expired.")


def test_result_ttl(ds, http, inputs):
    ds.result_ttl_seconds = 0
    task_id = create_task(ds, http, painting_body(inputs))
    wait_for_status(ds, task_id, "SUCCEEDED")
    url = query(ds, http, task_id).json()["output"]["results"][0]["url"]
    assert_oss_error(http.get(url), 403, "AccessDenied")


def test_result_honours_the_mask(ds, http, inputs):
    prompt = "a red balloon"
    task_id = create_task(ds, http, painting_body(inputs, prompt=prompt, size="1280*720", n=2))
    wait_for_status(ds, task_id, "SUCCEEDED")
    urls = [result["url"] for result in query(ds, http, task_id).json()["output"]["results"]]

    for slot, url in enumerate(urls):
        image = fetch_image(http, url)
        # mask: left half of the base is white, so the left half of the output is repainted
        assert image.getpixel((100, 360)) == fill_colour(prompt, slot)
        assert image.getpixel((1180, 360)) == shift_colour(BASE_COLOUR)
    assert fill_colour(prompt, 0) != fill_colour(prompt, 1)


def test_result_honours_mask_color(ds, http, images):
    grey_box = (0, 0, 100, 100)
    colour_inputs = {
        "base_image_url": images.publish("/b.png", png_bytes((400, 400))),
        # white background, grey square top-left: with mask_color only the grey square is repainted
        "mask_image_url": images.publish("/m.png", png_bytes((400, 400), (255, 255, 255), grey_box, (134, 134, 134))),
    }
    task_id = create_task(ds, http, painting_body(colour_inputs, prompt="sky", mask_color=[[134, 134, 134]]))
    wait_for_status(ds, task_id, "SUCCEEDED")
    image = fetch_image(http, query(ds, http, task_id).json()["output"]["results"][0]["url"])

    assert image.size == (1024, 1024)
    assert image.getpixel((100, 100)) == fill_colour("sky", 0)
    assert image.getpixel((900, 900)) == shift_colour(BASE_COLOUR)


def test_imageedit_result_keeps_the_base_size(ds, http, images):
    edit_inputs = {
        "base_image_url": images.publish("/b.jpg", png_bytes((640, 520), format="JPEG")),
        "mask_image_url": images.publish("/m.png", mask_bytes((640, 520), (320, 0, 640, 520))),
    }
    task_id = create_task(ds, http, imageedit_body(edit_inputs, prompt="edit", n=1))
    wait_for_status(ds, task_id, "SUCCEEDED")
    image = fetch_image(http, query(ds, http, task_id).json()["output"]["results"][0]["url"])

    assert image.size == (640, 520)
    assert image.getpixel((600, 260)) == fill_colour("edit", 0)
    assert all(abs(a - b) <= 3 for a, b in zip(image.getpixel((50, 260)), shift_colour(BASE_COLOUR)))  # JPEG base


def result_of(ds, http, task_id, slot=0) -> str:
    wait_for_status(ds, task_id, "SUCCEEDED")
    return query(ds, http, task_id).json()["output"]["results"][slot]["url"]


def box_centre(box):
    left, top, right, bottom = box
    return (left + right) // 2, (top + bottom) // 2


def test_marks_are_drawn_outside_the_mask_only(ds, http, inputs):
    task_id = create_task(ds, http, painting_body(inputs, prompt="kite", size="1280*720"))
    image = fetch_image(http, result_of(ds, http, task_id))

    # the mask is the left half: the two left marks are painted over, the two right ones show
    top_left, top_right, bottom_left, bottom_right = mark_boxes((1280, 720))
    assert [image.getpixel(box_centre(box)) for box in (top_left, bottom_left)] == [fill_colour("kite", 0)] * 2
    assert [image.getpixel(box_centre(box)) for box in (top_right, bottom_right)] == [MARK_COLOUR] * 2
    assert image.getpixel((top_right[0] - 3, top_right[3] + 3)) == shift_colour(BASE_COLOUR)


def test_mark_boxes_sit_near_the_corners():
    boxes = mark_boxes((1024, 1024))
    assert boxes == [(16, 16, 48, 48), (976, 16, 1008, 48), (16, 976, 48, 1008), (976, 976, 1008, 1008)]
    small = mark_boxes((300, 300))
    assert all(0 < left < right < 300 and 0 < top < bottom < 300 for left, top, right, bottom in small)


def test_the_inputs_are_recorded_as_received(ds, http, images):
    base = png_bytes((640, 520), format="JPEG")
    mask = mask_bytes((640, 520), (10, 20, 110, 220))
    received = {"base_image_url": images.publish("/b.jpg", base), "mask_image_url": images.publish("/m.png", mask)}
    task_id = create_task(ds, http, painting_body(received))
    task = wait_for_status(ds, task_id, "SUCCEEDED")

    assert (task.received_base.format, task.received_base.mode, task.received_base.size) == ("JPEG", "RGB", (640, 520))
    assert (task.received_mask.format, task.received_mask.mode, task.received_mask.size) == ("PNG", "RGB", (640, 520))
    assert task.received_base.tobytes() == Image.open(io.BytesIO(base)).tobytes()
    assert task.received_mask.getbbox() == (10, 20, 110, 220)


def test_inputs_are_recorded_even_when_the_task_then_fails(ds, http, images):
    mismatched = {
        "base_image_url": images.publish("/b.png", png_bytes((400, 300))),
        "mask_image_url": images.publish("/m.png", mask_bytes((300, 300), (0, 0, 5, 5))),
    }
    task = wait_for_status(ds, create_task(ds, http, painting_body(mismatched)), "FAILED")
    assert (task.received_base.size, task.received_mask.size) == ((400, 300), (300, 300))


# ------------------------------------------------------------------ input downloads


def test_inputs_are_downloaded_after_the_create_answer(ds, http, inputs, images):
    images.delay_seconds = 1.0
    task_id = create_task(ds, http, painting_body(inputs))
    answered_at = time.time()
    task = wait_for_status(ds, task_id, "SUCCEEDED")
    assert sorted(path for path, _ in images.hits) == ["/base.png", "/mask.png"]
    # The answer came before any input could have been served (each takes a second), whatever the machine's load.
    assert answered_at < min(at for _, at in images.hits) + images.delay_seconds
    # the run lasts until the slow download is done, not just running_seconds
    assert task.ended_at - task.started_at >= images.delay_seconds


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:{image_port}/missing.png", "http://127.0.0.1:9/unreachable.png"],
)
def test_input_download_failure(ds, http, inputs, images, base_url):
    broken = {**inputs, "base_image_url": base_url.format(image_port=images.server.server_address[1])}
    task_id = create_task(ds, http, painting_body(broken))
    wait_for_status(ds, task_id, "FAILED")

    output = query(ds, http, task_id).json()["output"]
    assert (output["code"], output["message"]) == ("BadRequest.InputDownloadFailed", MSG_DOWNLOAD_FAILED)
    assert output["message"] == "Failed to download the input file"


@pytest.mark.parametrize(
    ("base", "mask", "message_part"),
    [
        (png_bytes((256, 300)), mask_bytes((256, 300), (0, 0, 5, 5)), "greater than 256 and less than 4096"),
        (png_bytes((400, 300)), mask_bytes((300, 300), (0, 0, 5, 5)), "does not match"),
        (b"not an image", mask_bytes((400, 300), (0, 0, 5, 5)), "not a decodable image"),
        (png_bytes((400, 300), format="GIF"), mask_bytes((400, 300), (0, 0, 5, 5)), "format"),
        (png_bytes((400, 300), format="WEBP"), mask_bytes((400, 300), (0, 0, 5, 5)), "format"),
        (png_bytes((4096, 300)), mask_bytes((4096, 300), (0, 0, 5, 5)), "greater than 256 and less than 4096"),
        (png_bytes((1900, 1900), format="BMP"), mask_bytes((1900, 1900), (0, 0, 5, 5)), "exceeds the limit of 10MB"),
    ],
)
def test_input_image_checks_fail_the_task(ds, http, images, base, mask, message_part):
    checked = {"base_image_url": images.publish("/b", base), "mask_image_url": images.publish("/m", mask)}
    task_id = create_task(ds, http, painting_body(checked))
    task = wait_for_status(ds, task_id, "FAILED")
    assert task.code == "InvalidParameter"
    assert message_part in task.message


def test_imageedit_needs_sides_of_at_least_512(ds, http, inputs):
    task_id = create_task(ds, http, imageedit_body(inputs))  # 400x300 inputs
    task = wait_for_status(ds, task_id, "FAILED")
    assert (task.code, "between 512 and 4096" in task.message) == ("InvalidParameter", True)


def test_imageedit_takes_4096_and_webp_but_not_more(ds, http, images):
    def edit(size, format="PNG"):
        inputs = {
            "base_image_url": images.publish(f"/b-{size[0]}.{format}", png_bytes(size, format=format)),
            "mask_image_url": images.publish(f"/m-{size[0]}.png", mask_bytes(size, (0, 0, 50, 50))),
        }
        return wait_for_status(ds, create_task(ds, http, imageedit_body(inputs)), "SUCCEEDED", "FAILED")

    accepted = edit((4096, 512), format="WEBP")
    assert (accepted.status, accepted.received_base.format) == ("SUCCEEDED", "WEBP")
    refused = edit((4097, 512))
    assert (refused.code, "between 512 and 4096" in refused.message) == ("InvalidParameter", True)


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


# ------------------------------------------------------------------ fault injection: result downloads


def test_fail_result_downloads_then_recover(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    ds.fail_result_downloads(status=403, count=2)
    ds.fail_result_downloads(status=404, count=1)

    assert_oss_error(http.get(url), 403, "AccessDenied")
    assert_oss_error(http.get(url), 403, "AccessDenied")
    assert_oss_error(http.get(url), 404, "NoSuchKey")
    assert fetch_image(http, url).size == (1024, 1024)
    assert ds.result_downloads == 4
    with pytest.raises(ValueError):
        ds.fail_result_downloads(status=418)


def test_result_faults_apply_only_to_valid_links(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    ds.fail_result_downloads(status=500, count=1)

    assert_oss_error(http.get(url.replace("Signature=", "Signature=x")), 403, "SignatureDoesNotMatch")
    assert_oss_error(http.get(url), 500, "InternalError")  # still queued for the first valid download


def test_redirect_results_to(ds, http, inputs, images):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    target = images.publish("/elsewhere.png", png_bytes((300, 300)))
    ds.redirect_results_to(target, count=1)

    redirected = http.get(url, allow_redirects=False)
    assert (redirected.status_code, redirected.headers["Location"]) == (302, target)
    assert fetch_image(http, url).size == (1024, 1024)

    ds.redirect_results_to(target)
    for _ in range(2):
        assert http.get(url, allow_redirects=False).status_code == 302
    ds.serve_results_normally()
    assert fetch_image(http, url).size == (1024, 1024)


def test_oversize_results_are_streamed_and_never_read_here_in_full(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    size = 200 * 1024 * 1024
    ds.oversize_results(bytes=size)

    with http.get(url, stream=True, timeout=5) as response:
        assert response.status_code == 200
        assert (response.headers["Content-Type"], int(response.headers["Content-Length"])) == ("image/png", size)
        first = next(response.iter_content(chunk_size=1024 * 1024))
        assert first.startswith(b"\x89PNG\r\n\x1a\n")
    # the client walked away: the stand-in sent a few socket buffers' worth, not 200 MB
    deadline = time.time() + 5
    while ds.result_bytes_sent == 0 and time.time() < deadline:
        time.sleep(0.01)
    assert 0 < ds.result_bytes_sent < 64 * 1024 * 1024


def test_oversize_results_chunked_are_the_real_png_then_zeros(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    png = http.get(url).content
    ds.oversize_results(bytes=3 * 1024 * 1024 + 5, count=1, declare_length=False)

    response = http.get(url)
    assert "Content-Length" not in response.headers and response.headers["Transfer-Encoding"] == "chunked"
    assert len(response.content) == 3 * 1024 * 1024 + 5
    assert response.content.startswith(png) and not response.content[len(png) :].strip(b"\x00")
    assert ds.result_bytes_sent == len(png) + 3 * 1024 * 1024 + 5
    assert http.get(url).content == png  # count=1: the next download is the image again


def test_corrupt_results_are_html_labelled_as_png(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    ds.corrupt_results(count=1)

    response = http.get(url)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "image/png")
    assert response.content.startswith(b"<!DOCTYPE html>")
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(response.content))
    assert fetch_image(http, url).size == (1024, 1024)
    ds.corrupt_results(body=b"{}", content_type="application/json")
    assert http.get(url).headers["Content-Type"] == "application/json"


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
