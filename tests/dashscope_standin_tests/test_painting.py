"""The stand-in's pictures (tests/dashscope_standin/painting.py): results at the model's size, the mask honoured,
marks outside it, and the inputs recorded as received."""

from __future__ import annotations

import io

from PIL import Image

from tests.dashscope_standin import MARK_COLOUR, fill_colour, mark_boxes, shift_colour
from tests.dashscope_standin_tests.standin_calls import (
    BASE_COLOUR,
    create_task,
    fetch_image,
    imageedit_body,
    mask_bytes,
    painting_body,
    png_bytes,
    query,
    result_of,
    wait_for_status,
)


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
