"""inpaint/regions.py: the work region around the painted area, and pasting the engine's answer back."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw

from inpaint import regions
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
