"""inpaint/images.py: transparency flattened onto white for the models, kept apart, and given back (pure Pillow)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from inpaint.images import prepare_base_image, with_alpha, with_transparency
from tests.image_helpers import APP_LIMITS, encode, is_red
from tests.pictures import mask, open_image, picture


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
