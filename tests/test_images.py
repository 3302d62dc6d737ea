"""inpaint/images.py: pictures and masks against the app's own limits, formats, and the helpers (pure Pillow)."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFile, ImageOps, JpegImagePlugin

from inpaint import png_encode
from inpaint.images import (ImageRefused, open_mask, open_rgb, picture_extension, picture_preview, prepare_base_image,
                            prepare_mask, result_as_jpeg, with_alpha, with_transparency)
from tests.pictures import frames, mask, open_image, picture, png_header_only

MB = 1024 * 1024
APP_LIMITS = {"max_bytes": 50 * MB, "max_pixels": 100_000_000, "min_side": 32}
MASK_LIMITS = {"max_bytes": 50 * MB, "max_pixels": 100_000_000}
BASE_SIZE = (640, 480)


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def is_red(pixel) -> bool:
    red, green, blue = pixel[:3]
    return red > 180 and green < 90 and blue < 90


# --- formats ------------------------------------------------------------------------------


def heic(width: int = 640, height: int = 480) -> bytes:
    image = open_image(picture(width, height, fmt="PNG")).convert("RGB")
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("BMP", "png"), ("WEBP", "png"),
                                                ("TIFF", "png")])
def test_prepare_base_image_takes_the_formats_people_have_at_their_own_size(fmt, extension):
    prepared = prepare_base_image(picture(fmt=fmt), **APP_LIMITS)

    assert (prepared.extension, prepared.width, prepared.height) == (extension, 640, 480)
    assert open_image(prepared.content).format == {"jpg": "JPEG", "png": "PNG"}[extension]


def test_prepare_base_image_takes_a_heic_photo():
    prepared = prepare_base_image(heic(800, 600), **APP_LIMITS)

    assert (prepared.extension, prepared.width, prepared.height) == ("png", 800, 600)
    assert is_red(open_image(prepared.content).getpixel((40, 40)))


def test_prepare_base_image_refuses_a_gif_by_name():
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(picture(fmt="GIF"), **APP_LIMITS)

    assert str(refused.value) == "The picture is a GIF file; please use a JPEG, PNG, WebP, HEIC, TIFF or BMP picture."


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_prepare_base_image_refuses_an_animated_png_or_webp_in_plain_words(fmt):
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(frames(fmt), **APP_LIMITS)

    assert str(refused.value) == "The picture is animated; please use a still picture (JPEG, PNG, WebP, HEIC, TIFF or BMP)."


def test_an_animated_gif_is_refused_as_a_gif():
    with pytest.raises(ImageRefused, match="is a GIF file"):
        prepare_base_image(frames("GIF"), **APP_LIMITS)


def test_a_format_we_do_not_read_is_named_with_the_right_article():
    with pytest.raises(ImageRefused) as refused:
        prepare_base_image(picture(fmt="AVIF"), **APP_LIMITS)

    assert str(refused.value) == "The picture is an AVIF file; please use a JPEG, PNG, WebP, HEIC, TIFF or BMP picture."


def test_an_upright_mpo_from_a_phone_is_kept_byte_for_byte():
    data = frames("MPO")
    assert open_image(data).format == "MPO"

    prepared = prepare_base_image(data, **APP_LIMITS)

    assert (prepared.content, prepared.extension, prepared.width, prepared.height) == (data, "jpg", 64, 48)


def test_a_multi_page_tiff_is_read_at_its_first_page():
    prepared = prepare_base_image(frames("TIFF"), **APP_LIMITS)

    assert (prepared.width, prepared.height) == (64, 48)
    assert open_image(prepared.content).getpixel((10, 10)) == (255, 0, 0)


def test_prepare_base_image_refuses_random_bytes_as_not_a_picture():
    data = bytes((i * 73 + 41) % 256 for i in range(5000))

    with pytest.raises(ImageRefused, match="not a picture we can read"):
        prepare_base_image(data, **APP_LIMITS)


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


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_a_turned_jpeg_is_encoded_once_as_a_jpeg_with_its_sampling_exif_and_profile(monkeypatch):
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "Test camera"
    source = open_image(picture(640, 480, fmt="PNG")).convert("RGB")
    data = encode_with(source, "JPEG", exif=exif.tobytes(), icc_profile=SRGB)
    assert JpegImagePlugin.get_sampling(open_image(data)) == 2  # a camera's 4:2:0
    formats_saved = []
    save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", lambda image, fp, fmt=None, **options: formats_saved.append(fmt)
                        or save(image, fp, fmt, **options))
    monkeypatch.setattr(png_encode, "png_encode", lambda *args, **kwargs: pytest.fail("a PNG was made on the way"))

    prepared = prepare_base_image(data, **APP_LIMITS)

    assert formats_saved == ["JPEG"]
    stored = open_image(prepared.content)
    assert (prepared.extension, stored.format, stored.size) == ("jpg", "JPEG", (480, 640))
    assert JpegImagePlugin.get_sampling(stored) == 2
    assert stored.getexif().get(0x0112, 1) == 1 and stored.getexif()[0x010F] == "Test camera"
    assert stored.info["icc_profile"] == SRGB


def encode_with(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP"])
def test_a_lossless_copy_keeps_the_colour_profile(fmt):
    data = encode_with(open_image(picture(fmt="PNG")).convert("RGB"), fmt, icc_profile=SRGB)

    assert open_image(prepare_base_image(data, **APP_LIMITS).content).info["icc_profile"] == SRGB


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])  # a PNG is kept as sent; a TIFF is stored as a new PNG
def test_a_profile_that_does_not_describe_rgb_pixels_is_never_used(fmt):
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    data = encode_with(open_image(picture(fmt="PNG")).convert("RGB"), fmt, icc_profile=lab)

    assert "icc_profile" not in open_rgb(prepare_base_image(data, **APP_LIMITS).content).info


def test_a_cmyk_jpeg_is_stored_as_rgb():
    prepared = prepare_base_image(encode(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG"), **APP_LIMITS)
    stored = open_image(prepared.content)

    assert (stored.format, stored.mode) == ("JPEG", "RGB") and is_red(stored.getpixel((10, 10)))


def test_a_16_bit_grey_picture_keeps_its_greys():
    data = encode(Image.fromarray(np.full((48, 64), 32896, dtype=np.uint16)))
    assert open_image(data).mode.startswith("I")

    assert open_image(prepare_base_image(data, **APP_LIMITS).content).getpixel((5, 5)) == (128, 128, 128)


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


# --- transparency -------------------------------------------------------------------------


def test_prepare_base_image_flattens_transparency_onto_white():
    prepared = prepare_base_image(picture(fmt="PNG", mode="RGBA"), **APP_LIMITS)
    stored = open_image(prepared.content)

    assert stored.mode == "RGB"
    assert stored.getpixel((600, 40)) == (255, 255, 255)  # was fully transparent
    assert is_red(stored.getpixel((40, 40)))  # opaque pixels are kept


def test_prepare_base_image_notes_flattened_transparency():
    prepared = prepare_base_image(picture(fmt="PNG", mode="RGBA"), **APP_LIMITS)

    assert len(prepared.notes) == 1
    assert "white" in prepared.notes[0] and "keep the transparency" in prepared.notes[0]


def test_prepare_base_image_keeps_the_alpha_apart():
    original = open_image(picture(fmt="PNG", mode="RGBA"))
    prepared = prepare_base_image(picture(fmt="PNG", mode="RGBA"), **APP_LIMITS)

    assert open_image(prepared.alpha).tobytes() == original.getchannel("A").tobytes()


def test_prepare_base_image_of_an_opaque_picture_has_no_alpha():
    assert prepare_base_image(picture(fmt="PNG"), **APP_LIMITS).alpha is None


def test_with_alpha_restores_the_transparency_and_makes_the_painted_area_solid():
    alpha = Image.new("L", (640, 480), 255)
    ImageDraw.Draw(alpha).rectangle((320, 0, 639, 239), fill=0)  # top-right quarter transparent
    result = open_image(picture(640, 480, fmt="PNG")).convert("RGB")
    restored = with_alpha(result, alpha_png=encode(alpha), solid=open_image(mask(640, 480)))

    assert restored.mode == "RGBA"
    assert restored.getpixel((600, 40))[3] == 0  # transparent and not painted
    assert restored.getpixel((400, 200))[3] == 255  # transparent but painted: new, solid content
    assert restored.getpixel((40, 400))[3] == 255  # opaque all along
    assert restored.getpixel((40, 400))[:3] == result.getpixel((40, 400))


def test_with_transparency_gives_a_stored_picture_its_alpha_back_as_png():
    alpha = Image.new("L", (640, 480), 255)
    ImageDraw.Draw(alpha).rectangle((320, 0, 639, 239), fill=0)
    restored = open_image(with_transparency(picture(640, 480), alpha_png=encode(alpha)))

    assert (restored.format, restored.mode) == ("PNG", "RGBA")
    assert restored.getpixel((600, 40))[3] == 0 and restored.getpixel((100, 400))[3] == 255


def test_prepare_base_image_does_not_note_opaque_rgba():
    opaque = open_image(picture(fmt="PNG")).convert("RGBA")

    prepared = prepare_base_image(encode(opaque), **APP_LIMITS)

    assert prepared.notes == []


# --- unsafe or broken files ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_prepare_base_image_refuses_truncated_file(fmt):
    data = picture(640, 480, fmt=fmt)

    with pytest.raises(ImageRefused, match="damaged or incomplete"):
        prepare_base_image(data[: len(data) // 2], **APP_LIMITS)


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
