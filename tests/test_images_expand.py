"""Extending the canvas (inpaint.images_expand): the size sent, the extended picture's size, and the seam."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inpaint import images, images_expand, regions
from inpaint.engines.dashscope import WanxImageEditEngine

SIDES = ("top_scale", "bottom_scale", "left_scale", "right_scale")


def scales(top=1.0, bottom=1.0, left=1.0, right=1.0) -> dict[str, float]:
    return dict(zip(SIDES, (top, bottom, left, right)))


def noise(width: int, height: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8))


def png(image: Image.Image) -> bytes:
    return images.encode_png(image)


def test_the_extended_size_is_the_picture_times_each_axis_scales_less_one():
    expansion = images_expand.expansion_of((1600, 1000), scales(top=1.2, left=1.5, right=1.5))
    assert (expansion.new_width, expansion.new_height, expansion.left, expansion.top) == (3200, 1200, 800, 200)
    assert expansion.extended == {"left": True, "top": True, "right": True, "bottom": False}


@pytest.mark.parametrize(("size", "asked", "sent"), [
    ((1600, 1000), scales(left=1.5, right=1.5), (1600, 1000)),  # the model's output fits: the picture as it is
    ((6000, 4000), scales(1.25, 1.25, 1.25, 1.25), (2731, 1821)),  # scaled so the extension fits 4096 a side
    ((400, 300), scales(left=2.0), (682, 512)),  # a small picture scaled up to the model's smallest side
])
def test_the_picture_is_sent_at_a_size_the_model_takes_and_can_extend(size, asked, sent):
    assert images_expand.expand_send_size(size, asked, WanxImageEditEngine().send_size) == sent


def test_the_original_area_is_the_persons_own_beyond_a_feathered_band_and_the_border_the_models():
    picture = noise(400, 300)
    answer = Image.new("RGB", (800, 300), (0, 200, 0))
    extended = np.asarray(images_expand.expand_paste(picture, answer, images_expand.expansion_of(
        picture.size, scales(left=1.5, right=1.5)), edge_softness=8)).astype(int)
    own, original = extended[:, 200:600], np.asarray(picture).astype(int)
    reach = regions.MASK_GROWTH + 8 + 1
    assert np.array_equal(own[:, reach:-reach], original[:, reach:-reach])
    assert (extended[:, :200] == (0, 200, 0)).all() and (extended[:, 600:] == (0, 200, 0)).all()
    # The seam: the model's colour fades into the photo's over the band, never one hard step.
    greens = own[:, :reach, 1].mean(axis=0)
    model_share = (greens - original[:, :reach, 1].mean(axis=0))
    assert model_share[0] > model_share[reach // 2] > model_share[-1] - 1


def test_an_edge_that_is_not_extended_keeps_the_photos_pixels_up_to_it():
    picture = noise(400, 300)
    extended = images_expand.expand_paste(picture, Image.new("RGB", (400, 450), (0, 0, 0)), images_expand.expansion_of(
        picture.size, scales(top=1.5)), edge_softness=8)
    own = np.asarray(extended)[150:]
    assert np.array_equal(own[20:], np.asarray(picture)[20:])  # the bottom, left and right edges are the photo's


def test_an_answer_of_another_shape_is_refused_rather_than_stretched():
    with pytest.raises(regions.ShapeRefused):
        images_expand.expand_paste(noise(400, 300), Image.new("RGB", (400, 300)),
                                   images_expand.expansion_of((400, 300), scales(left=2.0)), edge_softness=8)


def test_the_composed_result_is_at_the_photos_own_resolution_with_a_band_of_model_pixels():
    picture = noise(1600, 1000)
    sent = (800, 500)  # as if the model had been sent half the photo's size
    answer = io.BytesIO()
    Image.new("RGB", (1600, 500), (0, 200, 0)).save(answer, "PNG")
    composed = images_expand.expand_compose(png(picture), answer.getvalue(), scales(left=1.5, right=1.5),
                                            send_width=sent[0], edge_softness=8)
    assert (composed.width, composed.height) == (3200, 1000)
    pixels = np.asarray(images.open_rgb(composed.png))[:, 800:2400]
    reach = regions.MASK_GROWTH + 16 + 1  # eight of the model's pixels are sixteen of the photo's
    assert np.array_equal(pixels[:, reach:-reach], np.asarray(picture)[:, reach:-reach])
    assert not np.array_equal(pixels[:, reach - 3], np.asarray(picture)[:, reach - 3])


def test_the_sent_picture_has_no_mask_and_is_the_whole_picture():
    prepared = images_expand.expand_prepare(png(noise(1600, 1000)), scales(left=1.5, right=1.5),
                                            send_size=WanxImageEditEngine().send_size, max_bytes=10 * 1024 * 1024)
    assert prepared.mask == b"" and prepared.region == regions.Region(0, 0, 1600, 1000)
    assert images.open_rgb(prepared.image).size == prepared.send_size == (1600, 1000)
