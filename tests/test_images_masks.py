"""inpaint/images.py: masks made black and white at the picture's size, from mask colours or alpha, and refused in
plain words (pure Pillow)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from inpaint.images import ImageRefused, prepare_mask
from tests.image_helpers import BASE_SIZE, MASK_LIMITS, encode
from tests.pictures import mask, open_image


# --- masks --------------------------------------------------------------------------------


def test_prepare_mask_binarises_at_128():
    grey = Image.new("L", BASE_SIZE, 127)
    ImageDraw.Draw(grey).rectangle((320, 0, 639, 479), fill=128)

    stored = open_image(prepare_mask(encode(grey), base_size=BASE_SIZE, **MASK_LIMITS))

    assert stored.getpixel((100, 100)) == 0
    assert stored.getpixel((500, 100)) == 255


def test_prepare_mask_stores_8bit_png_of_picture_size():
    stored = open_image(prepare_mask(mask(mode="RGB", fill=(255, 255, 255)), base_size=BASE_SIZE, **MASK_LIMITS))

    assert (stored.format, stored.mode, stored.size) == ("PNG", "L", BASE_SIZE)


def test_prepare_mask_resizes_same_shape_with_nearest_neighbour():
    small = mask(320, 240, box=(80, 60, 239, 179))

    stored = open_image(prepare_mask(small, base_size=BASE_SIZE, **MASK_LIMITS))

    assert stored.size == BASE_SIZE
    assert set(stored.tobytes()) == {0, 255}
    assert stored.getpixel((320, 240)) == 255
    assert stored.getpixel((100, 100)) == 0


def test_a_mask_already_in_the_stored_form_is_kept_byte_for_byte():
    data = mask()

    assert prepare_mask(data, base_size=BASE_SIZE, **MASK_LIMITS) == data


def test_an_editor_proxy_mask_is_scaled_up_to_the_photo_and_stays_black_and_white():
    proxy = Image.new("L", (512, 384), 0)
    ImageDraw.Draw(proxy).ellipse((100, 100, 300, 250), fill=255)

    stored = open_image(prepare_mask(encode(proxy), base_size=(4096, 3072), **MASK_LIMITS))

    assert stored.size == (4096, 3072) and set(stored.tobytes()) == {0, 255}
    assert stored.getpixel((200 * 8, 175 * 8)) == 255 and stored.getpixel((50 * 8, 50 * 8)) == 0


def test_prepare_mask_refuses_other_shape_naming_both_sizes():
    with pytest.raises(ImageRefused) as refused:
        prepare_mask(mask(500, 500), base_size=BASE_SIZE, **MASK_LIMITS)

    message = str(refused.value)
    assert "500 × 500" in message
    assert "640 × 480" in message


def test_prepare_mask_refuses_empty_mask():
    with pytest.raises(ImageRefused, match="paint the area you want to change"):
        prepare_mask(mask(fill=0), base_size=BASE_SIZE, **MASK_LIMITS)


def coloured_mask(*boxes: tuple[tuple[int, int, int, int], tuple[int, int, int]]) -> bytes:
    image = Image.new("RGB", BASE_SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for box, colour in boxes:
        draw.rectangle(box, fill=colour)
    return encode(image)


def test_prepare_mask_picks_listed_mask_colours():
    data = coloured_mask(((0, 0, 199, 479), (0, 0, 0)), ((200, 0, 399, 479), (134, 134, 134)))

    stored = open_image(
        prepare_mask(data, base_size=BASE_SIZE, mask_color=[[0, 0, 0], [134, 134, 134]], **MASK_LIMITS)
    )

    assert stored.getpixel((100, 240)) == 255  # black
    assert stored.getpixel((300, 240)) == 255  # grey
    assert stored.getpixel((500, 240)) == 0  # white


def test_prepare_mask_colour_accepts_near_colour_within_tolerance():
    data = coloured_mask(((0, 0, 199, 479), (139, 129, 136)), ((200, 0, 399, 479), (150, 150, 150)))

    stored = open_image(prepare_mask(data, base_size=BASE_SIZE, mask_color=[[134, 134, 134]], **MASK_LIMITS))

    assert stored.getpixel((100, 240)) == 255  # JPEG-ish drift of a few levels
    assert stored.getpixel((300, 240)) == 0  # another colour altogether


def test_prepare_mask_colour_picks_grey_area_of_jpeg_mask():
    image = Image.new("RGB", BASE_SIZE, (255, 255, 255))
    ImageDraw.Draw(image).rectangle((160, 120, 479, 359), fill=(134, 134, 134))

    stored = open_image(
        prepare_mask(encode(image, "JPEG"), base_size=BASE_SIZE, mask_color=[[134, 134, 134]], **MASK_LIMITS)
    )

    assert stored.getpixel((320, 240)) == 255
    assert stored.getpixel((40, 40)) == 0


def test_sixteen_mask_colours_are_picked_in_one_pass_each_within_the_tolerance():
    colours = [[16 * i, 255 - 16 * i, (37 * i) % 256] for i in range(16)]
    image = Image.new("RGB", (16 * 30, 60), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i, (red, green, blue) in enumerate(colours):
        draw.rectangle((30 * i, 0, 30 * i + 29, 29), fill=(red, green, blue))
        # Just past the tolerance in one channel: not this colour.
        draw.rectangle((30 * i, 30, 30 * i + 29, 59), fill=(red, green, min(blue + 9, 255) if blue < 200 else blue - 9))

    stored = np.asarray(open_image(prepare_mask(encode(image), base_size=image.size, mask_color=colours,
                                                **MASK_LIMITS)))

    assert (stored[:30] == 255).all()
    assert (stored[30:] == 0).all()


def test_prepare_mask_refuses_mask_without_listed_colours():
    data = coloured_mask(((0, 0, 199, 479), (20, 200, 20)))

    with pytest.raises(ImageRefused, match="no pixels of the chosen mask colours"):
        prepare_mask(data, base_size=BASE_SIZE, mask_color=[[0, 0, 0], [134, 134, 134]], **MASK_LIMITS)


def test_prepare_mask_uses_alpha_of_transparent_mask():
    # Transparent white around an opaque black stroke: only alpha can tell which is painted.
    overlay = Image.new("RGBA", BASE_SIZE, (255, 255, 255, 0))
    ImageDraw.Draw(overlay).rectangle((160, 120, 479, 359), fill=(0, 0, 0, 255))

    stored = open_image(prepare_mask(encode(overlay), base_size=BASE_SIZE, **MASK_LIMITS))

    assert stored.getpixel((320, 240)) == 255
    assert stored.getpixel((40, 40)) == 0
