"""wanx2.1-imageedit's functions without a mask (tests/dashscope_standin/painting.py, ``whole_image_draw``): expand
to the documented scales with a plausible border, super_resolution by its factor, remove_watermark at the input's
size, each recolouring what it keeps, and their documented parameter errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.dashscope_standin import shift_colour
from tests.dashscope_standin.painting import EXPAND_NOISE
from tests.dashscope_standin_tests.standin_calls import (
    BASE_COLOUR,
    assert_error,
    create,
    create_task,
    fetch_image,
    imageedit_body,
    png_bytes,
    query,
    result_of,
    wait_for_status,
)

BOX = (100, 100, 200, 150)
BOX_COLOUR = (250, 250, 250)


@pytest.fixture
def base_url(images):
    """A 600x512 base image with a light box at BOX, and no mask anywhere."""
    return images.publish("/whole.png", png_bytes((600, 512), box=BOX, box_colour=BOX_COLOUR))


def test_expand_extends_each_side_by_its_scale(ds, http, base_url):
    body = imageedit_body(
        {"base_image_url": base_url}, function="expand", top_scale=1.5, left_scale=1.25, right_scale=2.0
    )
    task_id = create_task(ds, http, body)
    image = fetch_image(http, result_of(ds, http, task_id))

    # 600 wide + a quarter of it on the left + all of it on the right; 512 high + half of it on top.
    assert image.size == (600 + 150 + 600, 512 + 256)
    pixels = np.asarray(image).astype(int)
    # The input sits at (150, 256), recoloured a little, not as sent.
    assert tuple(pixels[256 + 10, 150 + 10]) == shift_colour(BASE_COLOUR) != BASE_COLOUR
    assert tuple(pixels[256 + BOX[1] + 5, 150 + BOX[0] + 5]) == shift_colour(BOX_COLOUR)
    # The new border continues the edge with some noise.
    border = pixels[:256, 150 + 300]
    assert (np.abs(border - np.array(shift_colour(BASE_COLOUR))) <= EXPAND_NOISE).all()
    assert len({tuple(pixel) for pixel in border}) > 1
    assert ds.tasks[task_id].received_mask is None


def test_expand_border_follows_the_seed(ds, http, base_url):
    ds.submit_rps["wanx2.1-imageedit"] = 10  # three creates in a row, not a rate-limit test
    def border(seed):
        body = imageedit_body({"base_image_url": base_url}, function="expand", bottom_scale=1.2, seed=seed)
        image = fetch_image(http, result_of(ds, http, create_task(ds, http, body)))
        assert image.size == (600, 512 + round(512 * 0.2))
        return np.asarray(image)[512:]

    first = border(7)
    assert (first == border(7)).all()
    assert (first != border(8)).any()


@pytest.mark.parametrize("factor", [1, 3])
def test_super_resolution_scales_by_the_factor(ds, http, base_url, factor):
    body = imageedit_body({"base_image_url": base_url}, function="super_resolution", upscale_factor=factor, n=2)
    task_id = create_task(ds, http, body)
    wait_for_status(ds, task_id, "SUCCEEDED")
    results = query(ds, http, task_id).json()["output"]["results"]

    assert len(results) == 2
    for result in results:
        image = fetch_image(http, result["url"])
        assert image.size == (600 * factor, 512 * factor)
        assert image.getpixel((BOX[0] * factor + 20, BOX[1] * factor + 20)) == shift_colour(BOX_COLOUR)
        assert image.getpixel((BOX[2] * factor + 20, BOX[3] * factor + 20)) == shift_colour(BASE_COLOUR)


def test_remove_watermark_keeps_the_size_and_recolours(ds, http, base_url):
    task_id = create_task(ds, http, imageedit_body({"base_image_url": base_url}, function="remove_watermark"))
    image = fetch_image(http, result_of(ds, http, task_id))

    assert image.size == (600, 512)
    assert image.getpixel((400, 400)) == shift_colour(BASE_COLOUR)


@pytest.mark.parametrize(
    "function, parameters, message",
    [
        ("expand", {"top_scale": 2.5}, "The top_scale is out of the allowed range [1.0, 2.0]"),
        ("expand", {"left_scale": 0.9}, "The left_scale is out of the allowed range [1.0, 2.0]"),
        ("expand", {"right_scale": True}, "The right_scale is out of the allowed range [1.0, 2.0]"),
        ("super_resolution", {"upscale_factor": 5}, "The upscale_factor is out of the allowed range [1, 4]"),
        ("super_resolution", {"upscale_factor": 1.5}, "The upscale_factor is out of the allowed range [1, 4]"),
        ("super_resolution", {"n": 5}, "The n is out of the allowed range [1, 4]"),
    ],
)
def test_whole_image_parameters_are_checked(ds, http, base_url, function, parameters, message):
    response = create(ds, http, imageedit_body({"base_image_url": base_url}, function=function, **parameters))

    assert_error(response, 400, "InvalidParameter", message)
    assert ds.creates_accepted == 0


def test_whole_image_functions_still_need_a_base_image(ds, http):
    response = create(ds, http, imageedit_body({}, function="expand"))

    assert_error(response, 400, "InvalidParameter", "Field required: input.base_image_url")


def test_an_output_past_4096_a_side_fails_the_task(ds, http, images):
    wide = images.publish("/wide.png", png_bytes((2100, 512)))
    body = imageedit_body({"base_image_url": wide}, function="super_resolution", upscale_factor=2)
    task_id = create_task(ds, http, body)
    task = wait_for_status(ds, task_id, "FAILED")

    assert task.code == "InvalidParameter"
    assert "4200*1024" in task.message
