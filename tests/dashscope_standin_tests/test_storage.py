"""The stand-in's temporary storage (tests/dashscope_standin/storage.py): the upload policy, the OSS form upload
and its refusals, and how a running task downloads its inputs."""

from __future__ import annotations

import time

import pytest

from tests.dashscope_standin import MSG_DOWNLOAD_FAILED
from tests.dashscope_standin_tests.standin_calls import (
    OSS_RESOLVE_HEADERS,
    assert_error,
    assert_oss_error,
    auth_headers,
    create,
    create_task,
    mask_bytes,
    painting_body,
    png_bytes,
    query,
    wait_for_status,
)


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
