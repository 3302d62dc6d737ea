"""The sync Qwen-Image-Edit call (tests/dashscope_standin/multimodal.py): refused with the async header, its body
checked with the documented codes, its answer's shape and size, the drift of its pictures, and how long it blocks."""

from __future__ import annotations

import base64
import io
import threading
import time
import uuid

import numpy as np
import pytest
import requests
from PIL import Image

from tests.dashscope_standin import shift_colour
from tests.dashscope_standin.multimodal import AUTO_AREA, AUTO_STEP, ZOOM, answer_drift, answer_point
from tests.dashscope_standin.wire import MSG_INVALID_URL
from tests.dashscope_standin_tests.standin_calls import (
    BASE_COLOUR,
    assert_error,
    auth_headers,
    fetch_image,
    generate,
    generation_body,
    png_bytes,
)

PLUS = "qwen-image-edit-plus"
# Two boxes in opposite corners of an 800x600 input: their drift shows the shift, their spread the zoom.
WHITE_BOX, WHITE = (40, 40, 120, 100), (250, 250, 250)
RED_BOX, RED = (680, 500, 760, 560), (250, 30, 30)


@pytest.fixture(autouse=True)
def quick(ds):
    ds.generation_seconds = 0.05
    ds.submit_rps[PLUS] = 50  # these tests call in quick succession; the rate limit has its own test


@pytest.fixture
def picture(images):
    """An 800x600 input with a white box top-left and a red one bottom-right."""
    image = Image.open(io.BytesIO(png_bytes((800, 600), box=WHITE_BOX, box_colour=WHITE)))
    image.paste(RED, RED_BOX)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return images.publish("/picture.png", buffer.getvalue())


def answer_of(response):
    assert response.status_code == 200, response.text
    body = response.json()
    (choice,) = body["output"]["choices"]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    return body, [item["image"] for item in choice["message"]["content"]]


def centroid(pixels, where):
    ys, xs = np.nonzero(where)
    return xs.mean() + 0.5, ys.mean() + 0.5


def box_centre(box):
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def test_the_async_header_is_refused(ds, http, picture):
    headers = auth_headers(**{"Content-Type": "application/json", "X-DashScope-Async": "enable"})
    response = generate(ds, http, generation_body([picture]), headers=headers)

    assert_error(response, 403, "AccessDenied", "current user api does not support asynchronous calls")
    assert ds.generations == {}


def test_answer_shape_and_downloadable_results(ds, http, picture):
    body, urls = answer_of(generate(ds, http, generation_body([picture], n=3, size="1024*768")))

    uuid.UUID(body["request_id"])
    assert body["usage"] == {"image_count": 3, "width": 1024, "height": 768}
    assert len(urls) == 3
    for url in urls:
        assert fetch_image(http, url).size == (1024, 768)
    assert ds.generations_answered == 1


def test_without_size_the_answer_is_about_a_megapixel_at_nearly_the_aspect(ds, http, picture):
    body, urls = answer_of(generate(ds, http, generation_body([picture])))
    width, height = body["usage"]["width"], body["usage"]["height"]

    assert (width, height) == fetch_image(http, urls[0]).size == (1184, 896)
    assert width % AUTO_STEP == 0 and height % AUTO_STEP == 0
    assert abs(width * height - AUTO_AREA) / AUTO_AREA < 0.05
    assert width / height != 800 / 600
    assert abs(width / height - 800 / 600) < 0.02


def test_the_answer_follows_the_last_image(ds, http, picture, images):
    portrait = images.publish("/portrait.png", png_bytes((600, 800)))
    body, _ = answer_of(generate(ds, http, generation_body([picture, portrait])))

    assert (body["usage"]["width"], body["usage"]["height"]) == (896, 1184)
    (record,) = ds.generations.values()
    assert [image.size for image in record.received_images] == [(800, 600), (600, 800)]


def test_a_size_is_rounded_to_multiples_of_16(ds, http, picture):
    body, urls = answer_of(generate(ds, http, generation_body([picture], size="1001*750")))

    assert (body["usage"]["width"], body["usage"]["height"]) == (1008, 752)
    assert fetch_image(http, urls[0]).size == (1008, 752)


def test_the_content_is_shifted_zoomed_and_recoloured(ds, http, picture):
    prompt, seed = "make the sky red", 11
    _, (url,) = answer_of(generate(ds, http, generation_body([picture], text=prompt, seed=seed)))
    pixels = np.asarray(fetch_image(http, url)).astype(int)
    size = (pixels.shape[1], pixels.shape[0])
    drift = answer_drift(prompt, seed, 0)
    assert all(abs(shift) in (1, 2) for shift in drift)

    white = centroid(pixels, (pixels[..., 0] > 150) & (pixels[..., 1] > 170))
    red = centroid(pixels, (pixels[..., 0] > 150) & (pixels[..., 1] < 60))
    for found, box in ((white, WHITE_BOX), (red, RED_BOX)):
        expected = answer_point(box_centre(box), (800, 600), size, drift)
        assert np.allclose(found, expected, atol=0.5), (found, expected)
        scaled_only = np.multiply(box_centre(box), size) / (800, 600)
        # Near the corners the zoom moves a box 3.4 px or more on each axis, and a shift of 2 px at most undoes
        # only part of it.
        assert (np.abs(np.subtract(found, scaled_only)) > 1).all()
    spread = np.subtract(red, white)
    scaled_spread = np.subtract(box_centre(RED_BOX), box_centre(WHITE_BOX)) * np.divide(size, (800, 600))
    assert np.allclose(spread, scaled_spread * ZOOM, atol=0.5)
    assert tuple(pixels[size[1] // 2, size[0] // 2]) == shift_colour(BASE_COLOUR)


def test_pasting_a_whole_answer_back_changes_every_pixel(ds, http, picture):
    sent = np.asarray(Image.open(io.BytesIO(http.get(picture).content))).astype(int)
    _, (url,) = answer_of(generate(ds, http, generation_body([picture], size="800*608")))
    answer = np.asarray(fetch_image(http, url)).astype(int)[:600]

    assert (answer != sent).any(axis=2).all()


def test_the_same_call_draws_the_same_answer(ds, http, picture):
    for _ in range(2):
        answer_of(generate(ds, http, generation_body([picture], seed=5, n=2)))
    first, second = ds.generations.values()

    assert first.result_pngs == second.result_pngs


def test_data_urls_are_taken(ds, http):
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes((512, 512))).decode()
    body, _ = answer_of(generate(ds, http, generation_body([data_url])))

    assert body["usage"]["width"] == body["usage"]["height"] == 1024


def content_of(body):
    return body["input"]["messages"][0]["content"]


def four_images(body):
    content_of(body)[:0] = [dict(content_of(body)[0]) for _ in range(3)]


@pytest.mark.parametrize(
    "change, status, code, message",
    [
        (lambda b: b.pop("model"), 400, "BadRequest.EmptyModel", None),
        (lambda b: b.update(model="wanx2.1-imageedit"), 404, "ModelNotFound", None),
        (lambda b: b.pop("input"), 400, "BadRequest.EmptyInput", None),
        (lambda b: b["input"].pop("messages"), 400, "InvalidParameter", "Field required: input.messages"),
        (lambda b: b["input"]["messages"][0].update(role="assistant"), 400, "InvalidParameter", None),
        (lambda b: b["input"]["messages"].append(b["input"]["messages"][0]), 400, "InvalidParameter", None),
        (lambda b: content_of(b).append({"text": "twice"}), 400, "InvalidParameter", None),
        (lambda b: content_of(b).pop(0), 400, "InvalidParameter", None),
        (four_images, 400, "InvalidParameter", "The content must hold 1 to 3 image items and exactly one text item"),
        (lambda b: content_of(b)[0].update(image="ftp://example.com/a.png"), 400, "InvalidParameter", MSG_INVALID_URL),
        (lambda b: content_of(b)[0].update(image="oss://dashscope-instant/a.png"), 400, "InvalidParameter",
         MSG_INVALID_URL),
        (lambda b: content_of(b)[-1].update(text=" "), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(n=7), 400, "InvalidParameter", "The n is out of the allowed range [1, 6]"),
        (lambda b: b["parameters"].update(n=0), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(size="4096*1024"), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(size="1024x1024"), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(size="500*1024"), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(negative_prompt="x" * 501), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(watermark="yes"), 400, "InvalidParameter", "The watermark must be a boolean"),
        (lambda b: b["parameters"].update(prompt_extend=1), 400, "InvalidParameter", None),
        (lambda b: b["parameters"].update(seed=-1), 400, "InvalidParameter", None),
    ],
)
def test_body_validation(ds, http, picture, change, status, code, message):
    body = generation_body([picture])
    change(body)

    assert_error(generate(ds, http, body), status, code, message)
    assert ds.generations == {}


def test_plus_and_max_take_six_answers(ds, http, picture):
    ds.submit_rps["qwen-image-edit-max"] = 50
    for model in ("qwen-image-edit-plus", "qwen-image-edit-max"):
        body, urls = answer_of(generate(ds, http, generation_body([picture], model=model, n=6, size="512*512")))
        assert len(urls) == body["usage"]["image_count"] == 6


def test_text_is_truncated_at_800_characters(ds, http, picture):
    answer_of(generate(ds, http, generation_body([picture], text="y" * 900)))
    (record,) = ds.generations.values()

    assert record.text == "y" * 800


@pytest.mark.parametrize(
    "publish, status, code, message_part",
    [
        (lambda images: images.publish("/tiny.png", png_bytes((300, 600))), 400, "InvalidParameter", "384 and 3072"),
        (lambda images: images.publish("/text.png", b"not a picture"), 400, "InvalidParameter", "decodable"),
        (lambda images: images.publish("/gone.png", b"") + "-missing", 415, "BadRequest.InputDownloadFailed", ""),
    ],
)
def test_input_images_are_checked(ds, http, images, publish, status, code, message_part):
    response = generate(ds, http, generation_body([publish(images)]))

    assert_error(response, status, code)
    assert message_part in response.json()["message"]
    assert ds.generations_answered == 0


def test_a_failed_call_frees_its_running_slot(ds, http, picture, images):
    ds.concurrency[PLUS] = 1
    broken = images.publish("/broken.png", b"not a picture")

    assert_error(generate(ds, http, generation_body([broken])), 400, "InvalidParameter")
    answer_of(generate(ds, http, generation_body([picture])))


def test_the_call_blocks_and_is_answered_even_after_the_caller_left(ds, http, picture):
    ds.generation_seconds = 1.0
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        generate(ds, http, generation_body([picture]), timeout=0.3)
    assert ds.generations_answered == 0

    deadline = time.monotonic() + 5
    while ds.generations_answered == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    (record,) = ds.generations.values()
    assert record.ended_at - record.started_at >= 1.0
    assert time.monotonic() - started >= 1.0
    assert record.result_pngs


def test_calls_beyond_the_running_limit_are_throttled(ds, http, picture):
    ds.concurrency[PLUS] = 1
    ds.generation_seconds = 0.6
    first = {}
    caller = threading.Thread(target=lambda: first.update(response=generate(ds, http, generation_body([picture]))))
    caller.start()
    while not ds.generations:
        time.sleep(0.01)
    second = requests.Session()
    second.trust_env = False

    assert_error(generate(ds, second, generation_body([picture])), 429, "Throttling", "Requests throttling triggered.")
    caller.join()
    answer_of(first["response"])
    answer_of(generate(ds, second, generation_body([picture])))
    assert ds.throttled == 1


def test_calls_beyond_the_rate_limit_are_throttled(ds, http, picture):
    ds.submit_rps[PLUS] = 1
    answer_of(generate(ds, http, generation_body([picture])))

    assert_error(generate(ds, http, generation_body([picture])), 429, "Throttling.RateQuota")


def test_injected_create_faults_apply_to_the_call(ds, http, picture):
    ds.fail_next_creates(1, status=500, code="InternalError")

    assert_error(generate(ds, http, generation_body([picture])), 500, "InternalError")
    answer_of(generate(ds, http, generation_body([picture])))


def test_answer_links_expire_with_the_rest(ds, http, picture):
    _, (url,) = answer_of(generate(ds, http, generation_body([picture])))
    ds.expire_results_now()

    assert http.get(url).status_code == 403
