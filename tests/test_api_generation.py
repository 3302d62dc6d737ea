"""The gateway's synchronous Qwen call through Django's test client: DashScope's multimodal-generation request made
into a job of the key's person over the whole picture, the answer held for it, and every refusal in DashScope's
shape. tests/test_pipeline_gateway_qwen.py runs the official SDK through a worker and the stand-in."""

from __future__ import annotations

import base64
import contextlib

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from inpaint import images
from inpaint.api import generation
from inpaint.models import InpaintJob, JobResult
from tests import pictures
from tests.live import TEST_API_KEY, person_key

pytestmark = pytest.mark.django_db

GENERATION = "/api/v1/services/aigc/multimodal-generation/generation"
MODEL = "qwen-image-edit-plus"


@pytest.fixture(autouse=True)
def gateway_settings(settings, sent_steps):
    settings.DASHSCOPE_API_KEY = TEST_API_KEY
    settings.INPAINT_PUBLIC_BASE_URL = ""
    settings.INPAINT_API_KEY_RATE = "1000/60"
    # No worker runs here: a held call answers at once that its job goes on.
    settings.INPAINT_API_GENERATION_WAIT = 0.3
    return settings


@pytest.fixture
def key() -> str:
    return person_key("ada")


def data_url(content: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(content).decode()


def call_body(*content, **parameters) -> dict:
    return {"model": MODEL, "parameters": parameters,
            "input": {"messages": [{"role": "user", "content": list(content) or [
                {"image": data_url(pictures.picture(900, 600))}, {"text": "make it snow"}]}]}}


def call(key: str, body: dict, **headers):
    return Client().post(GENERATION, body, content_type="application/json",
                         headers={"Authorization": f"Bearer {key}", **headers})


def assert_error(response, status: int, code: str) -> str:
    answer = response.json()
    assert (response.status_code, answer["code"]) == (status, code), answer
    assert answer["request_id"]
    return answer["message"]


def test_a_call_becomes_a_job_over_the_whole_picture_and_one_that_outlasts_the_wait_goes_on(key):
    message = assert_error(call(key, call_body(n=2, seed=7, negative_prompt="rain", size="1024*1024")),
                           504, "RequestTimeOut")

    job = InpaintJob.objects.get()
    assert str(job.pk) in message and "/api/v1/tasks/" in message
    assert (job.engine, job.prompt, job.negative_prompt, job.n, job.seed) == (MODEL, "make it snow", "rain", 2, 7)
    assert job.owner.username == "ada" and (job.base_width, job.base_height) == (900, 600)
    # The model takes no mask: the call edits all of the picture, which comes back at its own size.
    with job.mask_image.open("rb") as stored:
        mask = images.open_mask(stored.read())
    assert mask.size == (900, 600) and mask.getextrema() == (255, 255)
    task = Client().get(f"/api/v1/tasks/{job.pk}", headers={"Authorization": f"Bearer {key}"}).json()
    assert task["output"]["task_status"] == "PENDING"


def test_an_ended_job_answers_in_dashscopes_shape_with_links_at_the_pictures_size(key):
    job = InpaintJob.objects.create(engine=MODEL, prompt="make it snow", n=2, status=InpaintJob.Status.SUCCEEDED)
    for slot in (0, 1):
        result = JobResult(job=job, slot=slot, width=900, height=600)
        result.image.save("result.png", ContentFile(pictures.picture(900, 600, fmt="PNG")), save=True)

    answer = generation.generation_output(job, lambda result: f"https://app/r/{result.slot}.png")

    [choice] = answer["output"]["choices"]
    assert choice == {"finish_reason": "stop", "message": {"role": "assistant", "content": [
        {"image": "https://app/r/0.png"}, {"image": "https://app/r/1.png"}]}}
    assert answer["usage"] == {"image_count": 2, "width": 900, "height": 600}


@pytest.mark.parametrize(("code", "status"), [("DataInspectionFailed", 400), ("InDoubt", 500)])
def test_a_failed_job_answers_its_code_with_dashscopes_status(code, status):
    job = InpaintJob.objects.create(engine=MODEL, prompt="x", status=InpaintJob.Status.FAILED, error_code=code,
                                    error_message="What happened.")

    with pytest.raises(generation.ApiRefusal) as refusal:
        generation.generation_output(job, str)

    assert (refusal.value.status, refusal.value.code, refusal.value.message) == (status, code, "What happened.")


def test_a_wait_ends_as_soon_as_the_job_has_ended(key, settings):
    settings.INPAINT_API_GENERATION_WAIT = 30
    job = InpaintJob.objects.create(engine=MODEL, prompt="x", status=InpaintJob.Status.CANCELED)

    assert generation.generation_wait(job).status == InpaintJob.Status.CANCELED
    with pytest.raises(generation.ApiRefusal) as refusal:
        generation.generation_output(job, str)
    assert (refusal.value.status, refusal.value.code) == (400, "RequestCanceled")


@pytest.mark.parametrize(("body", "field"), [
    ({"model": "qwen-image-edit-plus", "input": {"messages": []}}, "input.messages"),
    (call_body({"image": data_url(pictures.picture())}), "text"),
    (call_body({"text": "make it snow"}), "image"),
    (call_body({"image": data_url(pictures.picture())}, {"image": data_url(pictures.picture())},
               {"text": "make it snow"}), "one picture"),
    (call_body({"image": "data:image/jpeg;base64," + base64.b64encode(b"not a picture").decode()},
               {"text": "make it snow"}), "input.messages[0].content[].image"),
    (call_body(seed=-1), "parameters.seed"),
    (call_body(n=9), "parameters.n"),
    ({**call_body(), "model": "qwen-vl-max"}, "Model not exist"),
], ids=["no message", "no text", "no image", "two images", "not a picture", "bad seed", "too many", "other model"])
def test_a_request_that_cannot_stand_is_refused_in_plain_words_and_makes_nothing(key, body, field):
    message = assert_error(call(key, body), 400, "InvalidParameter")

    assert field in message
    assert not InpaintJob.objects.exists()


def test_the_async_header_a_sync_model_refuses_and_a_wrong_key_are_answered_as_dashscope_does(key):
    assert "asynchronous" in assert_error(call(key, call_body(), **{"X-DashScope-Async": "enable"}),
                                          403, "AccessDenied")
    assert_error(call("sk-0123456789wrong", call_body()), 401, "InvalidApiKey")
    assert not InpaintJob.objects.exists()


def test_a_process_holding_its_most_calls_refuses_one_more_before_making_a_job(key):
    with contextlib.ExitStack() as holds:
        for _ in range(generation.WAITING_CALLS_PER_PROCESS):
            holds.enter_context(generation.generation_hold())
        message = assert_error(call(key, call_body()), 503, "ServiceUnavailable")

    assert "asynchronously" in message and not InpaintJob.objects.exists()
    assert_error(call(key, call_body()), 504, "RequestTimeOut")  # the places came back
