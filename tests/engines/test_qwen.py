"""The Qwen-Image-Edit engines (inpaint/engines/qwen.py) against the DashScope stand-in as a real HTTP server: the
body of the one synchronous call, no async header, the sizes asked for, the region as a data: URL, and which
failures are definite (the job may be retried) and which leave the call in doubt (it may have been billed)."""

from __future__ import annotations

import base64
import io
import socket
import threading

import pytest
import requests
from PIL import Image

from inpaint.engines import engines_listed
from inpaint.engines.base import JobInput, TaskStatus
from inpaint.engines.dashscope import DashScopeError
from inpaint.engines.qwen import QwenImageEditMaxEngine, QwenImageEditPlusEngine

PLUS = QwenImageEditPlusEngine()
GENERATION = "/api/v1/services/aigc/multimodal-generation/generation"


@pytest.fixture
def qwen_standin(standin_settings, dashscope):
    dashscope.generation_seconds = 0.05
    return dashscope


def region_png(size=(800, 608)) -> bytes:
    image = Image.new("RGB", size, (40, 90, 160))
    image.paste((230, 200, 40), (300, 200, 500, 400))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def job_input(**overrides) -> JobInput:
    values = dict(base_image=region_png(), mask_image=b"unused", base_name="jobs/7f3a/region.png",
                  mask_name="jobs/7f3a/region-mask.png", prompt="a yellow kite", size=(800, 608), n=2, seed=42)
    values.update(overrides)
    return JobInput(**values)


def sent_calls(standin):
    return [request for request in standin.requests if request.path == GENERATION]


def test_one_call_with_the_documented_body(qwen_standin):
    PLUS.submit(job_input())

    [call] = sent_calls(qwen_standin)
    image = call.json["input"]["messages"][0]["content"][0]["image"]
    assert call.json == {
        "model": "qwen-image-edit-plus",
        "input": {"messages": [{"role": "user", "content": [{"image": image}, {"text": "a yellow kite"}]}]},
        "parameters": {"n": 2, "size": "800*608", "seed": 42, "watermark": False, "prompt_extend": False},
    }


def test_the_call_is_synchronous_never_async(qwen_standin):
    PLUS.submit(job_input())

    [call] = sent_calls(qwen_standin)
    assert "X-DashScope-Async" not in call.headers
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Authorization"] == f"Bearer {qwen_standin.api_key}"
    assert not qwen_standin.tasks  # no task was made to be polled


def test_the_region_goes_as_a_data_url_of_its_own_bytes(qwen_standin):
    region = region_png()

    PLUS.submit(job_input(base_image=region))

    image = sent_calls(qwen_standin)[0].json["input"]["messages"][0]["content"][0]["image"]
    prefix, _, data = image.partition(",")
    assert prefix == "data:image/png;base64" and base64.b64decode(data) == region
    [generation] = qwen_standin.generations.values()
    assert generation.received_images[0].size == (800, 608)


def test_a_jpeg_region_is_named_as_one(qwen_standin):
    buffer = io.BytesIO()
    Image.new("RGB", (640, 512), (10, 20, 30)).save(buffer, "JPEG")

    PLUS.submit(job_input(base_image=buffer.getvalue(), size=(640, 512)))

    image = sent_calls(qwen_standin)[0].json["input"]["messages"][0]["content"][0]["image"]
    assert image.startswith("data:image/jpeg;base64,")


def test_a_negative_prompt_is_sent_only_when_given(qwen_standin):
    PLUS.submit(job_input(negative_prompt="blurry, text"))
    PLUS.submit(job_input())

    first, second = sent_calls(qwen_standin)
    assert first.json["parameters"]["negative_prompt"] == "blurry, text"
    assert "negative_prompt" not in second.json["parameters"]


def test_the_answer_is_a_finished_state_with_one_link_per_image(qwen_standin):
    state = PLUS.submit(job_input(n=3))

    assert state.status == TaskStatus.SUCCEEDED and state.ended and not state.task_id
    assert state.image_count == 3 and state.request_id
    assert len(state.results) == 3
    for slot in state.results:
        answer = Image.open(io.BytesIO(requests.get(slot.url, timeout=10).content))
        assert answer.size == (800, 608)


def test_the_max_model_is_the_engine_value(qwen_standin):
    QwenImageEditMaxEngine().submit(job_input())

    assert sent_calls(qwen_standin)[0].json["model"] == "qwen-image-edit-max"


@pytest.mark.parametrize("region", [(300, 200), (800, 600), (1000, 1000), (1501, 999), (2600, 1300), (5000, 1250),
                                    (1250, 5000), (513, 2047), (4097, 3001)])
def test_the_size_asked_for_is_the_regions_shape_in_multiples_of_16_within_512_to_2048(region):
    width, height = PLUS.send_size(*region)

    assert width % 16 == 0 and height % 16 == 0
    assert 512 <= width <= 2048 and 512 <= height <= 2048
    assert abs(width / height - region[0] / region[1]) / (region[0] / region[1]) < 0.04


def test_a_region_that_fits_goes_at_its_own_resolution():
    assert PLUS.send_size(800, 608) == (800, 608)
    assert PLUS.send_size(1000, 750) == (992, 752)


def test_the_call_waits_as_long_as_its_own_timeout(settings):
    settings.INPAINT_QWEN_TIMEOUT = 360.0
    settings.DASHSCOPE_TIMEOUT = (4.0, 30.0)

    assert PLUS.client().timeout == (4.0, 360.0)


def test_its_account_limits_are_settings(settings):
    settings.INPAINT_QWEN_SUBMIT_RATE, settings.INPAINT_QWEN_RUNNING_LIMIT = 3, 5

    assert (PLUS.submit_rate, PLUS.running_limit) == (3, 5)


def test_it_is_declared_synchronous_remote_and_keeping_the_input_shape():
    assert PLUS.synchronous and PLUS.remote and PLUS.output_shapes is None
    assert "style" not in PLUS.controls and {"n", "context", "edge_softness"} <= PLUS.controls


def test_both_models_are_listed_and_unavailable_without_a_key(settings):
    settings.DASHSCOPE_API_KEY = ""

    listed = {engine.key: engine for engine in engines_listed()}

    assert {"qwen-image-edit-plus", "qwen-image-edit-max"} <= set(listed)
    assert not listed["qwen-image-edit-plus"].is_configured()


# --- failures: definite, or in doubt -------------------------------------------------------


def submit_error(**overrides) -> DashScopeError:
    with pytest.raises(DashScopeError) as raised:
        PLUS.submit(job_input(**overrides))
    return raised.value


def test_a_refused_call_is_definite_and_final(qwen_standin):
    qwen_standin.fail_next_creates(1, status=400, code="InvalidParameter", message="The size is wrong")

    error = submit_error()

    assert (error.code, error.http_status, error.transient, error.maybe_created) == ("InvalidParameter", 400, False,
                                                                                     False)
    assert "Change the picture" in PLUS.explain_error(error.code, error.message)


def test_a_server_error_answered_is_definite_and_may_be_retried(qwen_standin):
    qwen_standin.fail_next_creates(1, status=500, code="InternalError")

    error = submit_error()

    assert error.transient and not error.maybe_created
    assert qwen_standin.generations_answered == 0


def test_a_throttled_call_is_definite_and_throttled(qwen_standin):
    qwen_standin.concurrency["qwen-image-edit-plus"] = 0

    error = submit_error()

    assert (error.code, error.throttled, error.maybe_created) == ("Throttling", True, False)


def test_a_bad_key_is_final_with_the_administrators_message(qwen_standin, settings):
    settings.DASHSCOPE_API_KEY = "sk-wrong"

    error = submit_error()

    assert error.http_status == 401 and not error.transient and not error.maybe_created
    assert "administrator" in PLUS.explain_error(error.code, error.message)


def test_a_timeout_after_sending_is_in_doubt(qwen_standin, settings):
    qwen_standin.generation_seconds = 3.0
    settings.INPAINT_QWEN_TIMEOUT = 0.5

    error = submit_error()

    assert (error.code, error.maybe_created) == ("ReadTimeout", True)


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_that_gave_up_waiting_leaves_the_call_in_doubt(qwen_standin, status):
    qwen_standin.fail_next_creates(1, status=status, code=f"HTTP{status}", message="gateway")

    assert submit_error().maybe_created


def test_a_connection_never_made_sent_nothing(settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.DASHSCOPE_API_KEY = "sk-test"
    settings.DASHSCOPE_BASE_URL = f"http://127.0.0.1:{port}/api/v1"

    error = submit_error()

    assert error.transient and not error.maybe_created


def test_a_connection_dropped_after_sending_is_in_doubt(settings):
    """The request reached a server that hung up without answering, as a service restarting mid-call would."""
    listener = socket.create_server(("127.0.0.1", 0))

    def hang_up() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(1 << 20)

    threading.Thread(target=hang_up, daemon=True).start()
    settings.DASHSCOPE_API_KEY = "sk-test"
    settings.DASHSCOPE_BASE_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"
    try:
        error = submit_error()
    finally:
        listener.close()

    assert (error.code, error.maybe_created) == ("ConnectionError", True)
