"""inpaint/images.py: EXIF orientation applied once, and upright pictures kept byte for byte (pure Pillow)."""

from __future__ import annotations

import pytest
from PIL import ImageOps

from inpaint.images import prepare_base_image
from tests.image_helpers import APP_LIMITS, is_red
from tests.pictures import open_image, picture


# --- orientation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "size", "red_at", "not_red_at"),
    [
        (6, (480, 640), (440, 40), (40, 40)),  # rotate 90° clockwise: top-left goes top-right
        (8, (480, 640), (40, 600), (40, 40)),  # rotate 90° anticlockwise: top-left goes bottom-left
        (3, (640, 480), (600, 440), (40, 40)),  # rotate 180°: top-left goes bottom-right
        (2, (640, 480), (600, 40), (40, 40)),  # mirrored left-right
        (5, (480, 640), (40, 40), (440, 600)),  # transposed: top-left stays, sides swap
    ],
)
def test_prepare_base_image_applies_exif_orientation(orientation, size, red_at, not_red_at):
    prepared = prepare_base_image(picture(640, 480, orientation=orientation), **APP_LIMITS)
    stored = open_image(prepared.content)

    assert stored.size == size == (prepared.width, prepared.height)
    assert is_red(stored.getpixel(red_at))
    assert not is_red(stored.getpixel(not_red_at))


@pytest.mark.parametrize("orientation", [6, 8, 3, 2])
def test_prepare_base_image_leaves_no_rotation_to_apply_again(orientation):
    prepared = prepare_base_image(picture(640, 480, orientation=orientation), **APP_LIMITS)
    stored = open_image(prepared.content)

    assert stored.getexif().get(0x0112, 1) == 1
    again = ImageOps.exif_transpose(stored)
    assert again.size == stored.size
    assert again.tobytes() == stored.convert(again.mode).tobytes()


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_an_upright_opaque_png_is_kept_byte_for_byte(mode):
    data = picture(fmt="PNG", mode=mode)

    prepared = prepare_base_image(data, **APP_LIMITS)

    assert (prepared.content, prepared.extension, prepared.alpha) == (data, "png", None)


def test_prepare_base_image_keeps_upright_rgb_jpeg_byte_for_byte():
    data = picture()

    prepared = prepare_base_image(data, **APP_LIMITS)

    assert prepared.content == data
    assert prepared.extension == "jpg"
