"""Upscaling's pictures (inpaint/images_upscale.py): the size sent, and the finished picture at exactly the factor."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint import images, images_upscale, regions
from tests.pictures import open_image, picture


def png(image: Image.Image) -> bytes:
    return images.encode_png(image)


def test_a_picture_that_fits_is_sent_at_its_own_size():
    assert images_upscale.upscale_send_size((900, 600), 2, min_side=512, max_side=4096) == (900, 600)


def test_a_picture_under_the_models_shortest_side_is_scaled_up_to_it_keeping_its_shape():
    assert images_upscale.upscale_send_size((300, 200), 2, min_side=512, max_side=4096) == (768, 512)


def test_a_picture_whose_answer_would_pass_the_models_side_is_refused_with_the_longest_that_fits():
    with pytest.raises(images_upscale.UpscaleRefused) as refused:
        images_upscale.upscale_send_size((2100, 1000), 2, min_side=512, max_side=4096)
    assert refused.value.largest == 2048
    # A small picture is scaled up before it is sent, so the longest it takes is shorter by as much.
    with pytest.raises(images_upscale.UpscaleRefused) as refused:
        images_upscale.upscale_send_size((1500, 256), 4, min_side=512, max_side=4096)
    assert refused.value.largest == 512


def test_the_prepared_picture_is_the_whole_picture_with_no_mask():
    prepared = images_upscale.upscale_prepare(picture(300, 200), 2, min_side=512, max_side=4096, max_bytes=None)
    assert prepared.send_size == (768, 512) and prepared.mask == b""
    assert (prepared.region.left, prepared.region.top, prepared.region.right, prepared.region.bottom) == (0, 0, 300, 200)
    assert open_image(prepared.image).size == (768, 512)


def test_the_finished_picture_is_exactly_the_factor_times_the_photo_even_from_a_rounded_answer():
    photo = Image.new("RGB", (300, 200), (200, 40, 40))
    answer = Image.new("RGB", (1535, 1023), (201, 41, 41))  # the model's own rounding of 768 × 512 × 2
    composed = images_upscale.upscale_compose(png(photo), png(answer), 2)
    assert (composed.width, composed.height) == (600, 400)
    stored = np.asarray(open_image(composed.png).convert("RGB"))
    assert stored.shape == (400, 600, 3) and abs(int(stored[..., 0].mean()) - 201) <= 1


def test_transparency_is_scaled_with_the_picture():
    photo = Image.new("RGB", (300, 200), (10, 10, 10))
    alpha = Image.new("L", (300, 200), 0)
    alpha.paste(255, (0, 0, 150, 200))
    composed = images_upscale.upscale_compose(png(photo), png(Image.new("RGB", (600, 400))), 2, alpha_png=png(alpha))
    stored = open_image(composed.png)
    assert stored.mode == "RGBA" and stored.getpixel((10, 10))[3] == 255 and stored.getpixel((590, 10))[3] == 0


def test_an_answer_of_another_shape_is_refused():
    with pytest.raises(regions.ShapeRefused):
        images_upscale.upscale_compose(png(Image.new("RGB", (300, 200))), png(Image.new("RGB", (800, 800))), 2)
