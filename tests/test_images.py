"""inpaint/images.py: picture and mask checks against the engines' limits (pure Pillow)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFile, ImageOps

from inpaint.images import (ImageRefused, closest_output_size, prepare_base_image, prepare_mask,
                            with_transparency)
from tests.pictures import mask, open_image, picture

MB = 1024 * 1024
WANX_PAINTING = {"min_side": 257, "max_side": 4095, "max_bytes": 10 * MB}
WANX_IMAGEEDIT = {"min_side": 512, "max_side": 4096, "max_bytes": 10 * MB}
MASK_LIMITS = {"max_bytes": 10 * MB, "max_side": 4095}
BASE_SIZE = (640, 480)


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def is_red(pixel) -> bool:
    red, green, blue = pixel[:3]
    return red > 180 and green < 90 and blue < 90


# --- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("BMP", "png")])
def test_prepare_base_image_recognises_format_by_content(fmt, extension):
    prepared = prepare_base_image(picture(fmt=fmt), **WANX_PAINTING)

    assert (prepared.extension, prepared.width, prepared.height) == (extension, 640, 480)
    assert open_image(prepared.content).format == {"jpg": "JPEG", "png": "PNG"}[extension]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_prepare_base_image_refuses_other_picture_format_by_name(fmt):
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(picture(fmt=fmt), **WANX_PAINTING)

    assert str(refused.value).startswith(f"The picture is a {fmt} file; please use")


def test_prepare_base_image_refuses_random_bytes_as_not_a_picture():
    data = bytes((i * 73 + 41) % 256 for i in range(5000))

    with pytest.raises(ImageRefused, match="not a picture"):
        prepare_base_image(data, **WANX_PAINTING)


# --- limits -------------------------------------------------------------------------------


def test_prepare_base_image_refuses_side_below_minimum_naming_limit_and_value():
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(picture(256, 300), **WANX_PAINTING)

    message = str(refused.value)
    assert "256 × 300" in message
    assert "257" in message


def test_prepare_base_image_accepts_minimum_side():
    prepared = prepare_base_image(picture(257, 257), **WANX_PAINTING)

    assert (prepared.width, prepared.height) == (257, 257)


def test_prepare_base_image_refuses_side_above_maximum_before_decoding(monkeypatch):
    data = picture(4096, 300, fmt="PNG")

    def refuse_to_decode(self):
        raise AssertionError("the picture was decoded before its size was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
    monkeypatch.setattr(Image.Image, "load", refuse_to_decode)

    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(data, **WANX_PAINTING)

    message = str(refused.value)
    assert "4096 × 300" in message
    assert "4095" in message


def test_prepare_base_image_refuses_file_over_size_limit_naming_both_sizes():
    data = picture() + b"\0" * (10 * MB + MB // 2)

    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(data, **WANX_PAINTING)

    message = str(refused.value)
    assert "10.5 MB" in message
    assert "10.0 MB" in message


def test_prepare_base_image_refuses_side_below_imageedit_minimum():
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(picture(511, 600), **WANX_IMAGEEDIT)

    message = str(refused.value)
    assert "511 × 600" in message
    assert "512" in message


def test_prepare_base_image_accepts_imageedit_maximum_side():
    prepared = prepare_base_image(picture(4096, 512), **WANX_IMAGEEDIT)

    assert (prepared.width, prepared.height) == (4096, 512)


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
    prepared = prepare_base_image(picture(640, 480, orientation=orientation), **WANX_PAINTING)
    stored = open_image(prepared.content)

    assert stored.size == size == (prepared.width, prepared.height)
    assert is_red(stored.getpixel(red_at))
    assert not is_red(stored.getpixel(not_red_at))


@pytest.mark.parametrize("orientation", [6, 8, 3, 2])
def test_prepare_base_image_leaves_no_rotation_to_apply_again(orientation):
    prepared = prepare_base_image(picture(640, 480, orientation=orientation), **WANX_PAINTING)
    stored = open_image(prepared.content)

    assert stored.getexif().get(0x0112, 1) == 1
    again = ImageOps.exif_transpose(stored)
    assert again.size == stored.size
    assert again.tobytes() == stored.convert(again.mode).tobytes()


def test_prepare_base_image_keeps_upright_rgb_jpeg_byte_for_byte():
    data = picture()

    prepared = prepare_base_image(data, **WANX_PAINTING)

    assert prepared.content == data
    assert prepared.extension == "jpg"


# --- transparency -------------------------------------------------------------------------


def test_prepare_base_image_flattens_transparency_onto_white():
    prepared = prepare_base_image(picture(fmt="PNG", mode="RGBA"), **WANX_PAINTING)
    stored = open_image(prepared.content)

    assert stored.mode == "RGB"
    assert stored.getpixel((600, 40)) == (255, 255, 255)  # was fully transparent
    assert is_red(stored.getpixel((40, 40)))  # opaque pixels are kept


def test_prepare_base_image_notes_flattened_transparency():
    prepared = prepare_base_image(picture(fmt="PNG", mode="RGBA"), **WANX_PAINTING)

    assert len(prepared.notes) == 1
    assert "white" in prepared.notes[0] and "keep the transparency" in prepared.notes[0]


def test_prepare_base_image_keeps_the_alpha_apart():
    original = open_image(picture(fmt="PNG", mode="RGBA"))
    prepared = prepare_base_image(picture(fmt="PNG", mode="RGBA"), **WANX_PAINTING)

    assert open_image(prepared.alpha).tobytes() == original.getchannel("A").tobytes()


def test_prepare_base_image_of_an_opaque_picture_has_no_alpha():
    assert prepare_base_image(picture(fmt="PNG"), **WANX_PAINTING).alpha is None


def test_with_transparency_restores_alpha_and_makes_the_painted_area_solid():
    alpha = Image.new("L", (640, 480), 255)
    ImageDraw.Draw(alpha).rectangle((320, 0, 639, 239), fill=0)  # top-right quarter transparent
    result = picture(640, 480, fmt="JPEG")
    restored = open_image(with_transparency(result, alpha_png=encode(alpha), solid_png=mask(640, 480)))

    assert restored.format == "PNG" and restored.mode == "RGBA"
    assert restored.getpixel((600, 40))[3] == 0  # transparent and not painted
    assert restored.getpixel((400, 200))[3] == 255  # transparent but painted: new, solid content
    assert restored.getpixel((40, 400))[3] == 255  # opaque all along
    assert restored.getpixel((40, 400))[:3] == open_image(result).getpixel((40, 400))


def test_with_transparency_fits_the_alpha_to_another_output_size():
    alpha = Image.new("L", (640, 480), 255)
    ImageDraw.Draw(alpha).rectangle((320, 0, 639, 239), fill=0)
    result = picture(1280, 720, fmt="PNG")
    restored = open_image(with_transparency(result, alpha_png=encode(alpha), solid_png=mask(640, 480)))

    assert restored.size == (1280, 720)
    assert restored.getpixel((1200, 60))[3] == 0
    assert restored.getpixel((100, 600))[3] == 255


def test_prepare_base_image_does_not_note_opaque_rgba():
    opaque = open_image(picture(fmt="PNG")).convert("RGBA")

    prepared = prepare_base_image(encode(opaque), **WANX_PAINTING)

    assert prepared.notes == []


# --- unsafe or broken files ---------------------------------------------------------------


def test_prepare_base_image_refuses_decompression_bomb(monkeypatch):
    data = picture(400, 400, fmt="PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    with pytest.raises(ImageRefused, match="too many pixels"):
        prepare_base_image(data, **WANX_PAINTING)


def test_prepare_base_image_refuses_picture_just_over_pixel_limit(monkeypatch):
    # Between one and two times the limit Pillow only warns; the warning must still refuse.
    data = picture(400, 400, fmt="PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)

    with pytest.raises(ImageRefused, match="too many pixels"):
        prepare_base_image(data, **WANX_PAINTING)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_prepare_base_image_refuses_truncated_file(fmt):
    data = picture(640, 480, fmt=fmt)

    with pytest.raises(ImageRefused, match="damaged or incomplete"):
        prepare_base_image(data[: len(data) // 2], **WANX_PAINTING)


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


# --- output size --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [(1920, 1080, "1280*720"), (1080, 1920, "720*1280"), (1000, 900, "1024*1024")],
)
def test_closest_output_size_follows_picture_shape(width, height, size):
    assert closest_output_size(width, height) == size
