"""The stand-in's validation (tests/dashscope_standin/validation.py): the create request's headers and body
before a task exists, and the input pictures once it runs, with DashScope's error codes."""

from __future__ import annotations

import uuid

import pytest

from tests.dashscope_standin_tests.standin_calls import (
    API_KEY,
    assert_error,
    create,
    create_headers,
    create_task,
    imageedit_body,
    mask_bytes,
    painting_body,
    png_bytes,
    query,
    wait_for_status,
)


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
