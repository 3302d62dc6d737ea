"""inpaint/images.py: the editor's picture preview, and what goes out (a result as JPEG, a picture's extension,
stored files opened without Pillow's bomb warning) (pure Pillow)."""

from __future__ import annotations

import warnings

import pytest
from PIL import Image

from inpaint.images import (
    ImageRefused,
    open_mask,
    open_rgb,
    picture_extension,
    picture_preview,
    prepare_mask,
    result_as_jpeg,
)
from tests.image_helpers import BASE_SIZE, MASK_LIMITS, MB, SRGB, encode, encode_with, heic, is_red
from tests.pictures import frames, mask, open_image, picture


# --- the editor's preview, and what goes out -----------------------------------------------------


def test_picture_preview_is_an_upright_jpeg_within_the_side_with_the_full_size():
    content, width, height = picture_preview(picture(3000, 2000, orientation=6), max_side=1024, max_bytes=50 * MB,
                                             max_pixels=100_000_000)
    preview = open_image(content)

    assert (width, height) == (2000, 3000)
    assert preview.format == "JPEG" and max(preview.size) <= 1024
    assert preview.width < preview.height


def test_picture_preview_shows_a_heic_photo():
    content, width, height = picture_preview(heic(), max_side=4096, max_bytes=50 * MB, max_pixels=100_000_000)

    assert (width, height) == (640, 480) and open_image(content).size == (640, 480)


def test_picture_preview_refuses_in_plain_words():
    with pytest.raises(ImageRefused, match="GIF"):
        picture_preview(picture(fmt="GIF"), max_side=4096, max_bytes=50 * MB, max_pixels=100_000_000)
    with pytest.raises(ImageRefused, match="animated"):
        picture_preview(frames("WEBP"), max_bytes=50 * MB, max_pixels=100_000_000)


def test_picture_preview_of_a_cmyk_jpeg_is_rgb_and_keeps_an_rgb_profile():
    cmyk, width, height = picture_preview(encode(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG"),
                                          max_bytes=50 * MB, max_pixels=100_000_000)
    profiled, _, _ = picture_preview(encode_with(Image.new("RGB", (64, 48)), "PNG", icc_profile=SRGB),
                                     max_bytes=50 * MB, max_pixels=100_000_000)

    assert (open_image(cmyk).mode, width, height) == ("RGB", 64, 48) and is_red(open_image(cmyk).getpixel((9, 9)))
    assert open_image(profiled).info["icc_profile"] == SRGB


def test_a_result_downloads_as_a_jpeg_at_quality_95_on_white():
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    jpeg = open_image(result_as_jpeg(encode(rgba)))

    assert jpeg.format == "JPEG" and jpeg.getpixel((10, 10)) == (255, 255, 255)


@pytest.mark.parametrize(("content", "extension"), [(picture(fmt="PNG"), "png"), (picture(), "jpg"),
                                                    (b"<html>no</html>", None)])
def test_picture_extension_names_what_an_engine_returned(content, extension):
    assert picture_extension(content) == extension


def test_prepare_mask_takes_at_most_16_colours_quickly():
    colours = [[value, value, value] for value in range(3000)]
    with pytest.raises(ImageRefused, match="at most 16"):
        prepare_mask(mask(), base_size=BASE_SIZE, mask_color=colours, **MASK_LIMITS)


def test_a_stored_picture_and_mask_open_without_pillows_bomb_warning(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # Pillow alone warns at 120 000 pixels

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert open_rgb(picture(400, 300, fmt="PNG")).size == (400, 300)
        assert open_mask(mask(400, 300)).mode == "L"
