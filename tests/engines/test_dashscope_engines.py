"""The two cloud engines (inpaint/engines/dashscope.py) against a fake session: the bodies they send, links or
DashScope's temporary storage, and polling a task."""

from __future__ import annotations

import pytest

from inpaint import options
from inpaint.engines.base import JobInput, TaskStatus
from inpaint.engines.dashscope import DashScopeClient, DashScopeError, WanxImageEditEngine, WanxPaintingEngine
from tests.engines.dashscope_session import (
    API_KEY,
    BASE,
    CREATE_URL,
    POLICY,
    TASK_ID,
    TIMEOUT,
    UPLOAD_HOST,
    FakeSession,
    created,
    reply,
)


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


def test_wanx_imageedit_engine_expand_sends_the_picture_alone_with_the_four_scales(cloud):
    session = FakeSession(created())
    scales = {"top_scale": 1.0, "bottom_scale": 1.25, "left_scale": 1.5, "right_scale": 2.0}

    engine_on(WanxImageEditEngine, session).submit(job_input(function="expand", function_parameters=scales, mask_image=b""))

    assert session.calls[0].json == {
        "model": "wanx2.1-imageedit",
        "input": {"function": "expand", "prompt": "a red kite in the sky",
                  "base_image_url": signed_link("jobs/7f3a/base.png")},
        "parameters": {"n": 2, "seed": 42, **scales},
    }


def test_wanx_imageedit_engine_upscale_sends_the_picture_alone_with_its_factor_and_a_prompt_unasked(cloud):
    session = FakeSession(created())

    engine_on(WanxImageEditEngine, session).submit(job_input(function="super_resolution", prompt="", mask_image=b"",
                                                             function_parameters={"upscale_factor": 3}))

    assert session.calls[0].json == {
        "model": "wanx2.1-imageedit",
        "input": {"function": "super_resolution", "prompt": options.UPSCALE_PROMPT,
                  "base_image_url": signed_link("jobs/7f3a/base.png")},
        "parameters": {"n": 2, "seed": 42, "upscale_factor": 3},
    }


def test_wanx_imageedit_engine_removes_text_from_the_region_without_its_mask_and_says_so_unasked(cloud):
    session = FakeSession(reply(200, {"request_id": "req-policy", "data": POLICY}), reply(200, text=""), created())

    engine_on(WanxImageEditEngine, session).submit(job_input(function="remove_watermark", prompt="", link=None))

    assert [call.method for call in session.calls] == ["GET", "POST", "POST"]  # the region alone is uploaded
    body = session.calls[-1].json
    assert body["input"]["function"] == "remove_watermark" and "mask_image_url" not in body["input"]
    assert body["input"]["prompt"] == options.REMOVE_TEXT_PROMPT  # the API needs one; the person need not write it
    assert body["parameters"] == {"n": 2, "seed": 42}


def test_wanx_imageedit_engine_expand_uploads_no_mask_without_links(cloud):
    session = FakeSession(reply(200, {"request_id": "req-policy", "data": POLICY}), reply(200, text=""), created())

    engine_on(WanxImageEditEngine, session).submit(job_input(function="expand", mask_image=b"", link=None,
                                                             function_parameters={"left_scale": 1.5}))

    assert [call.method for call in session.calls] == ["GET", "POST", "POST"]
    assert "mask_image_url" not in session.calls[-1].json["input"]
