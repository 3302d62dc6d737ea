"""The official ``dashscope`` SDK, unchanged, against the stand-in: the sync Qwen-Image-Edit call with a local file
(uploaded to temporary storage), and wanx2.1-imageedit's expand and super_resolution as async tasks."""

from __future__ import annotations

import dashscope
import pytest

from tests.dashscope_standin import shift_colour
from tests.dashscope_standin_tests.standin_calls import API_KEY, BASE_COLOUR, fetch_image, png_bytes

GENERATION_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
TASK_CREATE_PATH = "/api/v1/services/aigc/image2image/image-synthesis"


@pytest.fixture
def sdk(ds, monkeypatch):
    """The SDK pointed at the stand-in, as an app would configure it, with no proxy in the way."""
    monkeypatch.setattr(dashscope, "base_http_api_url", ds.base_url)
    monkeypatch.setattr(dashscope, "api_key", API_KEY)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    ds.generation_seconds = 0.05
    return dashscope


@pytest.fixture
def local_picture(tmp_path):
    path = tmp_path / "room.png"
    path.write_bytes(png_bytes((800, 600)))
    return path


def requests_to(ds, path):
    return [request for request in ds.requests if request.path == path]


@pytest.mark.parametrize("as_url", [False, True], ids=["plain path", "file:// URL"])
def test_qwen_call_with_a_local_file(ds, http, sdk, local_picture, as_url):
    image = f"file://{local_picture}" if as_url else str(local_picture)
    messages = [{"role": "user", "content": [{"image": image}, {"text": "make the sofa green"}]}]

    response = sdk.MultiModalConversation.call(model="qwen-image-edit-plus", messages=messages, n=2, seed=4)

    assert response.status_code == 200, (response.code, response.message)
    assert (response.usage["image_count"], response.usage["width"], response.usage["height"]) == (2, 1184, 896)
    content = response.output.choices[0].message.content
    assert len(content) == 2
    for item in content:
        assert fetch_image(http, item["image"]).size == (1184, 896)
    (call,) = requests_to(ds, GENERATION_PATH)
    # The SDK's sync call must not carry the async header (it would get 403), and must resolve its upload.
    assert "X-DashScope-Async" not in call.headers
    assert call.headers["X-DashScope-OssResourceResolve"] == "enable"
    sent_image = call.json["input"]["messages"][0]["content"][0]["image"]
    assert sent_image.startswith("oss://")
    assert ds.uploads[sent_image.removeprefix("oss://")] == local_picture.read_bytes()
    (record,) = ds.generations.values()
    assert record.received_images[0].size == (800, 600)


def test_qwen_call_errors_reach_the_sdk_caller(ds, sdk, local_picture):
    messages = [{"role": "user", "content": [{"image": str(local_picture)}, {"text": "too many"}]}]

    response = sdk.MultiModalConversation.call(model="qwen-image-edit-plus", messages=messages, n=7)

    assert (response.status_code, response.code) == (400, "InvalidParameter")
    assert ds.generations == {}


def sdk_task(sdk, function, base_image_url, **parameters):
    created = sdk.ImageSynthesis.async_call(
        model="wanx2.1-imageedit", function=function, prompt="continue the room", base_image_url=base_image_url,
        **parameters,
    )
    assert created.status_code == 200, (created.code, created.message)
    finished = sdk.ImageSynthesis.wait(created)
    assert finished.output.task_status == "SUCCEEDED", finished
    fetched = sdk.ImageSynthesis.fetch(created)
    assert fetched.output.task_status == "SUCCEEDED"
    return created.output.task_id, [result.url for result in finished.output.results]


def test_expand_through_the_sdk(ds, http, sdk, local_picture):
    task_id, (url,) = sdk_task(sdk, "expand", str(local_picture), top_scale=1.5, left_scale=1.25)

    image = fetch_image(http, url)
    assert image.size == (800 + 200, 600 + 300)
    assert image.getpixel((200 + 400, 300 + 300)) == shift_colour(BASE_COLOUR)
    (create,) = requests_to(ds, TASK_CREATE_PATH)
    # Keyword arguments arrive flat in parameters, not nested.
    assert create.json["parameters"] == {"top_scale": 1.5, "left_scale": 1.25}
    assert create.json["input"]["base_image_url"].startswith("oss://")
    assert ds.tasks[task_id].received_base.size == (800, 600)


def test_super_resolution_through_the_sdk(ds, http, sdk, local_picture):
    _, urls = sdk_task(sdk, "super_resolution", str(local_picture), upscale_factor=2, n=2)

    assert [fetch_image(http, url).size for url in urls] == [(1600, 1200)] * 2


def test_task_parameter_errors_reach_the_sdk_caller(ds, sdk, local_picture):
    created = sdk.ImageSynthesis.async_call(
        model="wanx2.1-imageedit", function="expand", prompt="x", base_image_url=str(local_picture), top_scale=3
    )

    assert (created.status_code, created.code) == (400, "InvalidParameter")
    assert "top_scale" in created.message
    assert ds.creates_accepted == 0
