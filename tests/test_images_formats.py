"""inpaint/images.py: the formats people have, read at their own size, their colour profiles and colours kept,
and broken files refused (pure Pillow)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin

from inpaint import png_encode
from inpaint.images import ImageRefused, open_rgb, prepare_base_image
from tests.image_helpers import APP_LIMITS, SRGB, encode, encode_with, heic, is_red
from tests.pictures import frames, open_image, picture


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


# --- unsafe or broken files ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_prepare_base_image_refuses_truncated_file(fmt):
    data = picture(640, 480, fmt=fmt)

    with pytest.raises(ImageRefused, match="damaged or incomplete"):
        prepare_base_image(data[: len(data) // 2], **APP_LIMITS)
