"""inpaint/regions.py: the work region around the painted area, and pasting the engine's answer back."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw

from inpaint import images, regions
from inpaint.regions import MASK_GROWTH, Region, feather, paste_back, region_choose, region_inputs
from tests.pictures import open_image

WANX_SHAPES = ((1024, 1024), (720, 1280), (1280, 720))


def mask_with(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    return mask


def textured(size: tuple[int, int], seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def shape_of(region: Region) -> float:
    return region.width / region.height


@pytest.mark.parametrize(("size", "box"), [
    ((6000, 4000), (100, 100, 300, 260)),      # a small mask in a corner
    ((6000, 4000), (2900, 1900, 3100, 2100)),  # in the middle
    ((6000, 4000), (5800, 10, 5990, 3990)),    # a tall stroke along the right edge
    ((4000, 6000), (0, 5900, 3999, 5999)),     # a wide stroke along the bottom
    ((3000, 1000), (10, 10, 2990, 990)),       # almost all of an ultrawide picture
    ((640, 480), (300, 200, 310, 210)),        # tiny
])
def test_the_region_holds_the_mask_and_takes_the_nearest_output_shape(size, box):
    region = region_choose(mask_with(size, box), context="normal", shapes=WANX_SHAPES)
    assert region.left <= box[0] and region.top <= box[1] and region.right > box[2] and region.bottom > box[3]
    shapes = [w / h for w, h in WANX_SHAPES]
    assert min(abs(shape_of(region) - shape) for shape in shapes) < 0.01


def test_the_region_stays_inside_the_picture_when_it_can():
    region = region_choose(mask_with((6000, 4000), (0, 0, 200, 150)), context="normal", shapes=WANX_SHAPES)
    assert (region.left, region.top) == (0, 0)
    assert region.right <= 6000 and region.bottom <= 4000


def test_more_context_gives_a_larger_region():
    mask = mask_with((6000, 4000), (2900, 1900, 3300, 2200))
    little = region_choose(mask, context="little", shapes=WANX_SHAPES)
    normal = region_choose(mask, context="normal", shapes=WANX_SHAPES)
    whole = region_choose(mask, context="whole", shapes=None)
    assert little.width < normal.width < whole.width
    assert (whole.left, whole.top, whole.right, whole.bottom) == (0, 0, 6000, 4000)


def test_a_region_that_cannot_fit_its_shape_reaches_past_the_picture_instead_of_stretching():
    region = region_choose(mask_with((3000, 500), (0, 0, 2999, 499)), context="whole", shapes=WANX_SHAPES)
    assert region.width == 3000 and region.height > 500
    assert math.isclose(shape_of(region), 16 / 9, rel_tol=0.01)


def test_min_side_grows_a_small_region_within_the_picture():
    region = region_choose(mask_with((2000, 1500), (1000, 700, 1010, 710)), context="little", min_side=512)
    assert region.width >= 512 and region.height >= 512
    assert region.left >= 0 and region.right <= 2000


def test_padding_mirrors_the_picture_and_is_black_in_the_mask():
    picture = textured((300, 100))
    mask = mask_with((300, 100), (100, 20, 200, 80))
    region = Region(0, -50, 300, 150)  # 50 px of padding above and below
    crop, crop_mask = region_inputs(picture, mask, region, (300, 200))
    crop_pixels, picture_pixels = np.asarray(crop), np.asarray(picture)
    assert np.array_equal(crop_pixels[50:150], picture_pixels)
    assert np.array_equal(crop_pixels[49], picture_pixels[0])  # mirrored at the edge
    assert np.array_equal(crop_pixels[0], picture_pixels[49])
    assert np.asarray(crop_mask)[:50].max() == 0 and np.asarray(crop_mask)[150:].max() == 0


def test_the_sent_mask_is_pure_black_and_white_and_keeps_a_thin_stroke():
    picture, mask = textured((4000, 4000)), Image.new("L", (4000, 4000), 0)
    ImageDraw.Draw(mask).line((0, 2000, 3999, 2000), fill=255, width=2)
    _, sent = region_inputs(picture, mask, Region(0, 0, 4000, 4000), (1024, 1024))
    values = set(np.unique(np.asarray(sent)))
    assert values == {0, 255}
    assert np.asarray(sent)[:, 500].max() == 255  # the 2 px stroke survives a 4× shrink


def test_feather_is_solid_inside_fades_in_the_band_and_is_zero_beyond_it():
    mask = mask_with((200, 200), (80, 80, 119, 119))
    blend = np.asarray(feather(mask, 10))
    assert blend[100, 100] == 255 and blend[100, 80 - MASK_GROWTH] == 255
    assert 0 < blend[100, 80 - MASK_GROWTH - 5] < 255
    assert blend[100, 80 - MASK_GROWTH - 10] == 0 and blend[:60].max() == 0


def test_paste_back_keeps_every_pixel_beyond_the_band_and_takes_the_result_inside_the_mask():
    picture = textured((1200, 900))
    mask = mask_with((1200, 900), (500, 400, 599, 479))
    region = region_choose(mask, context="normal", shapes=WANX_SHAPES)
    # A model that changes everything it was sent, as a real one may.
    result = Image.new("RGB", (1280, 720) if shape_of(region) > 1.5 else (1024, 1024), (0, 255, 0))
    original = np.asarray(picture).copy()
    composed = np.asarray(paste_back(picture, mask, region, result, edge_softness=8))
    band = np.asarray(mask.point(lambda v: 255 if v else 0))
    beyond = np.asarray(feather(mask, 8)) == 0
    assert np.array_equal(composed[beyond], original[beyond])
    inside = band == 255
    assert (composed[inside] == (0, 255, 0)).all()
    assert composed.shape == (900, 1200, 3)


def test_paste_back_of_a_padded_region_crops_the_padding_off():
    picture = textured((1000, 300))
    mask = mask_with((1000, 300), (400, 100, 600, 200))
    region = region_choose(mask, context="whole", shapes=WANX_SHAPES)
    assert region.top < 0
    corner = picture.getpixel((10, 10))
    composed = paste_back(picture, mask, region, Image.new("RGB", (1280, 720), (255, 0, 255)), edge_softness=4)
    assert composed.size == (1000, 300)
    assert composed.getpixel((500, 150)) == (255, 0, 255)
    assert composed.getpixel((10, 10)) == corner


def test_result_compose_keeps_size_profile_and_transparency():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    textured((640, 480)).save(buffer, "PNG", icc_profile=profile)
    alpha = Image.new("L", (640, 480), 0)
    alpha_png, mask_png = io.BytesIO(), io.BytesIO()
    alpha.save(alpha_png, "PNG")
    mask_with((640, 480), (300, 200, 340, 240)).save(mask_png, "PNG")
    raw = io.BytesIO()
    Image.new("RGB", (1024, 1024), (1, 2, 3)).save(raw, "PNG")
    composed = regions.result_compose(buffer.getvalue(), mask_png.getvalue(), Region(0, -80, 640, 560),
                                      raw.getvalue(), edge_softness=8, alpha_png=alpha_png.getvalue())
    stored = open_image(composed.png)
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (640, 480))
    assert stored.info.get("icc_profile") == profile
    assert stored.getpixel((320, 220))[3] == 255 and stored.getpixel((10, 10))[3] == 0
    assert (composed.width, composed.height) == (640, 480)
    assert open_image(composed.preview).format == "WEBP"


def test_result_compose_scales_to_the_size_asked():
    buffer, mask_png, raw = io.BytesIO(), io.BytesIO(), io.BytesIO()
    textured((800, 600)).save(buffer, "JPEG")
    mask_with((800, 600), (300, 200, 340, 240)).save(mask_png, "PNG")
    Image.new("RGB", (1024, 1024)).save(raw, "PNG")
    composed = regions.result_compose(buffer.getvalue(), mask_png.getvalue(), Region(100, 0, 700, 600), raw.getvalue(),
                                      edge_softness=8, scale=0.25)
    assert open_image(composed.png).size == (200, 150)


@pytest.mark.parametrize(("size", "box"), [
    ((6000, 4000), (5900, 3900, 5999, 3999)),  # bottom-right corner, touching both edges
    ((6000, 4000), (5950, 0, 5999, 60)),       # top-right corner
    ((3000, 8000), (1400, 0, 1600, 30)),       # a tall picture, along the top edge
    ((8064, 6048), (4000, 3000, 4003, 3003)),  # a tiny mask on a 48 MP photo
    ((6000, 4000), (0, 0, 5999, 3999)),        # everything
    ((5040, 2160), (100, 900, 4900, 1300)),    # a 21:9 picture with a long stroke
])
def test_every_region_has_an_output_shape_and_holds_the_mask_with_context(size, box):
    region = region_choose(mask_with(size, box), context="normal", shapes=WANX_SHAPES)
    assert region.left <= box[0] and region.top <= box[1] and region.right > box[2] and region.bottom > box[3]
    assert min(abs(math.log(shape_of(region) * h / w)) for w, h in WANX_SHAPES) < 0.005
    assert min(region.width, region.height) >= regions.CONTEXT_MIN_SIDE["normal"]
    # Inside the picture wherever the shape fits, padded only along the side where it cannot.
    if region.width <= size[0]:
        assert 0 <= region.left and region.right <= size[0]
    if region.height <= size[1]:
        assert 0 <= region.top and region.bottom <= size[1]


def test_a_tiny_mask_on_a_big_photo_still_gets_a_region_with_context():
    region = region_choose(mask_with((8064, 6048), (4000, 3000, 4003, 3003)), context="normal", shapes=WANX_SHAPES)
    assert (region.width, region.height) == (512, 512)
    assert (region.left + region.right) // 2 == 4002 and (region.top + region.bottom) // 2 == 3002


def test_max_aspect_widens_a_long_thin_region_so_a_sided_engine_takes_it_unstretched():
    # A 12:1 panorama for an engine taking 512 to 4096 px a side: 8:1 at most, padded above and below.
    region = region_choose(mask_with((12000, 1000), (100, 400, 11000, 600)), context="whole", max_aspect=8)
    assert (region.left, region.top, region.right, region.bottom) == (0, -250, 12000, 1250)
    within = region_choose(mask_with((6000, 4000), (0, 1990, 5999, 2010)), context="little", max_aspect=8)
    assert within == region_choose(mask_with((6000, 4000), (0, 1990, 5999, 2010)), context="little")


def test_a_send_size_of_another_shape_is_refused_rather_than_stretched():
    picture, mask = textured((800, 600)), mask_with((800, 600), (300, 200, 400, 300))
    with pytest.raises(ValueError, match="cannot be sent"):
        region_inputs(picture, mask, Region(0, 0, 800, 600), (1024, 1024))
    crop, crop_mask = region_inputs(picture, mask, Region(0, 0, 800, 600), (1024, 768))
    assert crop.size == crop_mask.size == (1024, 768)


def test_a_result_of_another_shape_is_refused_rather_than_stretched_back():
    picture, mask = textured((800, 600)), mask_with((800, 600), (300, 200, 400, 300))
    with pytest.raises(ValueError, match="would stretch"):
        paste_back(picture, mask, Region(0, 0, 800, 600), Image.new("RGB", (1024, 1024)), edge_softness=8)
    # An engine rounding its size a little (to a multiple of 16) is not a different shape.
    paste_back(picture, mask, Region(0, 0, 800, 600), Image.new("RGB", (1024, 768 - 16)), edge_softness=8)


def test_a_region_grows_to_the_shape_of_a_send_size_that_was_rounded():
    """An engine that keeps any shape but paints in multiples of 16 (Qwen): the region takes the rounded shape."""
    def in_sixteens(width, height):
        scale = min(1.0, 2048 / max(width, height))
        return tuple(16 * round(side * scale / 16) for side in (width, height))

    picture, mask = textured((4000, 6000)), mask_with((4000, 6000), (1200, 2500, 2599, 3299))
    prepared = regions.region_prepare(images.encode_png(picture), images.encode_png(mask), context="normal",
                                      shapes=None, min_side=512, send_size=in_sixteens, max_bytes=None)

    region = prepared.region
    assert prepared.send_size == (2048, 1616) and (region.width, region.height) != (2800, 2200)
    assert abs(region.width * 1616 - region.height * 2048) <= 2048  # the same shape, to a pixel
    assert Image.open(io.BytesIO(prepared.image)).size == (2048, 1616)


def test_an_engine_may_allow_answers_of_a_close_shape_and_still_refuse_a_far_one():
    picture, mask = textured((800, 600)), mask_with((800, 600), (300, 200, 400, 300))
    close, far = Image.new("RGB", (1056, 752)), Image.new("RGB", (1024, 1024))  # 5 % and 25 % off in aspect
    with pytest.raises(regions.ShapeRefused):
        paste_back(picture, mask, Region(0, 0, 800, 600), close, edge_softness=8)
    paste_back(picture, mask, Region(0, 0, 800, 600), close, edge_softness=8, shape_tolerance=0.10)
    with pytest.raises(regions.ShapeRefused) as refused:
        paste_back(picture, mask, Region(0, 0, 800, 600), far, edge_softness=8, shape_tolerance=0.10)
    assert (refused.value.returned, refused.value.region) == ((1024, 1024), (800, 600))


@pytest.mark.parametrize("edge_softness", [0, 8, 64])
def test_only_the_feathered_band_changes_for_any_edge_softness(edge_softness):
    picture = textured((2000, 1500), seed=3)
    mask = mask_with((2000, 1500), (900, 700, 1000, 760))
    original = np.asarray(picture).copy()
    composed = np.asarray(paste_back(picture, mask, Region(0, 0, 2000, 1500), Image.new("RGB", (1024, 768), "white"),
                                     edge_softness=edge_softness))
    changed = np.argwhere((composed != original).any(axis=2))
    reach = MASK_GROWTH + edge_softness
    assert changed[:, 0].min() >= 700 - reach and changed[:, 0].max() <= 760 + reach
    assert changed[:, 1].min() >= 900 - reach and changed[:, 1].max() <= 1000 + reach
    assert (composed[700:761, 900:1001] == 255).all()


def test_paste_back_scales_only_the_band_yet_matches_scaling_the_whole_result():
    picture = textured((3000, 2000), seed=4)
    mask = mask_with((3000, 2000), (2000, 400, 2300, 600))
    region = Region(0, -400, 3000, 2400)  # a "whole picture" region, padded above and below
    gradient = Image.linear_gradient("L").resize((1500, 1400)).convert("RGB")
    composed = np.asarray(paste_back(picture, mask, region, gradient, edge_softness=8)).astype(int)
    expected = np.asarray(gradient.resize((3000, 2800), Image.Resampling.LANCZOS).crop((0, 400, 3000, 2400))).astype(int)
    inside = np.asarray(mask) == 255
    assert np.abs(composed[inside] - expected[inside]).max() <= 1


def test_a_padded_region_is_scaled_then_mirrored_at_the_sent_size():
    picture = textured((1000, 300), seed=5)
    mask = mask_with((1000, 300), (0, 0, 999, 299))
    region = region_choose(mask, context="whole", shapes=WANX_SHAPES)
    assert (region.top, region.bottom) == (-131, 431)  # 1000 × 562.5 → 563: 16:9
    crop, crop_mask = region_inputs(picture, mask, region, (1280, 720))
    sent, sent_mask = np.asarray(crop), np.asarray(crop_mask)
    top = round(131 * 1280 / 1000)
    assert (sent_mask[:top] == 0).all() and (sent_mask[top:top + 384] == 255).all() and (sent_mask[top + 384:] == 0).all()
    scaled = np.asarray(picture.resize((1280, 384), Image.Resampling.LANCZOS))
    assert np.array_equal(sent[top:top + 384], scaled)
    assert np.array_equal(sent[top - 1], scaled[0]) and np.array_equal(sent[top - 20], scaled[19])
