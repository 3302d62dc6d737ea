"""inpaint/images.py: pictures against the app's own limits (sides, pixels, bytes) and Pillow's bomb limit,
refused in plain words before decoding where it can be (pure Pillow)."""

from __future__ import annotations

import warnings

import pytest
from PIL import Image, ImageFile

from inpaint.images import ImageRefused, picture_preview, prepare_base_image, prepare_mask
from tests.image_helpers import APP_LIMITS, MASK_LIMITS, MB, heic
from tests.pictures import picture, png_header_only


# --- the app's limits ---------------------------------------------------------------------


def test_prepare_base_image_refuses_a_side_below_the_minimum_naming_limit_and_value():
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(picture(31, 300), **APP_LIMITS)

    assert str(refused.value) == "The picture is 31 × 300 pixels; each side must be at least 32 pixels."


def test_prepare_base_image_takes_pictures_the_models_could_not():
    # 200 px is under wanx-x-painting's 256 and 5000 px over its 4096: the work region absorbs both.
    for width, height in ((200, 200), (5000, 300)):
        prepared = prepare_base_image(picture(width, height, fmt="PNG"), **APP_LIMITS)
        assert (prepared.width, prepared.height) == (width, height)


def test_prepare_base_image_refuses_too_many_pixels_before_decoding(monkeypatch):
    data = picture(1200, 1000, fmt="PNG")

    def refuse_to_decode(self):
        raise AssertionError("the picture was decoded before its size was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(data, max_bytes=50 * MB, max_pixels=1_000_000, min_side=32)

    assert str(refused.value) == ("The picture has 1.2 megapixels (1200 × 1000); the limit is 1 megapixels.")


def test_prepare_base_image_refuses_a_picture_past_pillows_bomb_limit_in_plain_words(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses at twice this, on opening

    with pytest.raises(ImageRefused, match="megapixels|damaged"):
        prepare_base_image(picture(400, 400, fmt="PNG"), max_bytes=50 * MB, max_pixels=10_000, min_side=32)


def test_a_picture_over_100_megapixels_is_refused_on_its_header_in_plain_words():
    data = png_header_only(12000, 10000)
    assert len(data) < 100

    for refuse in (lambda: prepare_base_image(data, **APP_LIMITS),
                   lambda: picture_preview(data, max_bytes=50 * MB, max_pixels=100_000_000)):
        with pytest.raises(ImageRefused) as refused:
            refuse()
        assert str(refused.value) == "The picture has 120.0 megapixels (12000 × 10000); the limit is 100 megapixels."
    with pytest.raises(ImageRefused, match="The mask has 120.0 megapixels"):
        prepare_mask(data, base_size=(12000, 10000), **MASK_LIMITS)


class Decoded(Exception):
    pass


def test_a_100_megapixel_picture_passes_every_check_up_to_decoding(monkeypatch):
    def decode(self):
        raise Decoded

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even Pillow's bomb warning
        with pytest.raises(Decoded):
            prepare_base_image(png_header_only(10000, 10000), **APP_LIMITS)


# Pillow alone refuses twice its limit and warns over it. PNG, JPEG and HEIF are not asked again
# after the header; WebP and TIFF openers ask Pillow themselves, so their case stays below the refusal.
@pytest.mark.parametrize(("fmt", "pillow_limit"), [("PNG", 1000), ("JPEG", 1000), ("HEIF", 1000), ("WEBP", 100_000),
                                                   ("TIFF", 100_000)])
def test_pillows_process_wide_bomb_limit_does_not_refuse_what_the_apps_limit_allows(monkeypatch, fmt, pillow_limit):
    data = heic(400, 300) if fmt == "HEIF" else picture(400, 300, fmt=fmt, orientation=6 if fmt == "JPEG" else None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepared = prepare_base_image(data, **APP_LIMITS)

    assert prepared.width * prepared.height == 120_000


def test_prepare_base_image_refuses_a_file_over_the_size_limit_naming_both_sizes():
    data = picture(640, 480, fmt="PNG")

    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(data, max_bytes=len(data) - 1, max_pixels=100_000_000, min_side=32)

    assert "the limit is" in str(refused.value)
