"""The offline fill on real photographs (issue 18), the way the worker runs it: work region, fill, paste-back.

The photos are the app's own samples (scikit-image's, CC0 / public domain, see
static/inpaint/samples/LICENSE.txt), scaled up to phone sizes. The measures are those of
bench/bench_offline_photos.py, where the same cases run at full size beside other engines.
"""

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from inpaint import options, regions
from inpaint.engines.base import JobInput
from inpaint.engines.offline import OfflineEngine

SAMPLES = Path(__file__).resolve().parents[2] / "static" / "inpaint" / "samples"


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def removed(photo_name, size, box):
    """The photo scaled to ``size`` with the rectangle ``box`` (fractions of it) filled; and the mask."""
    photo = Image.open(SAMPLES / photo_name).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle((box[0] * size[0], box[1] * size[1], box[2] * size[0], box[3] * size[1]), fill=255)
    picture, mask_png, engine = png(photo), png(mask), OfflineEngine()
    prepared = regions.region_prepare(picture, mask_png, context="normal", shapes=None, min_side=0,
                                      send_size=engine.send_size, max_bytes=None)
    state = engine.submit(JobInput(base_image=prepared.image, mask_image=prepared.mask, base_name="r.png",
                                   mask_name="m.png", prompt="", size=prepared.send_size))
    composed = regions.result_compose(picture, mask_png, prepared.region, state.results[0].content,
                                      edge_softness=options.EDGE_SOFTNESS_DEFAULT)
    return np.asarray(Image.open(io.BytesIO(composed.png)).convert("RGB")), np.asarray(mask) > 0


def distance_bands(hole):
    inside = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 3)
    return inside, outside


def grey(picture):
    return cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)


def seam_ratio(picture, hole):
    """Mean gradient on the hole's border band (2 px each side) over that just outside it (4-12 px)."""
    image = grey(picture)
    gradient = np.hypot(cv2.Sobel(image, cv2.CV_32F, 1, 0), cv2.Sobel(image, cv2.CV_32F, 0, 1))
    inside, outside = distance_bands(hole)
    edge = ((inside > 0) & (inside <= 2)) | ((outside > 0) & (outside <= 2))
    return gradient[edge].mean() / gradient[(outside > 4) & (outside <= 12)].mean()


def detail_ratio(picture, hole, scale):
    """Variance of the Laplacian in the hole over that in a ring around it, seen at ``scale``."""
    size = (round(hole.shape[1] * scale), round(hole.shape[0] * scale))
    small = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    laplacian = cv2.Laplacian(grey(small), cv2.CV_32F)
    inside, outside = distance_bands(small_hole)
    return laplacian[inside > 2].var() / laplacian[(outside > 0) & (outside <= 24)].var()


def test_the_rocket_leaves_no_ghost_on_the_launch_pad():
    """Issue 18: a lighter, grainy column with visible edges stood where the rocket was (seam 1.45)."""
    filled, hole = removed("rocket.jpg", (3000, 2000), (0.466, 0.28, 0.541, 0.93))
    assert seam_ratio(filled, hole) <= 1.3
    columns = np.nonzero(hole.any(axis=0))[0]
    left, right = columns.min(), columns.max() + 1
    rows = slice(int(0.3 * hole.shape[0]), int(0.8 * hole.shape[0]))  # the sky, above the pad
    column = grey(filled)[rows, left:right].mean()
    beside = np.concatenate([grey(filled)[rows, left - 60:left], grey(filled)[rows, right:right + 60]], axis=1).mean()
    assert abs(column - beside) < 2


def test_the_saucers_rim_is_not_smudged():
    """Issue 18: the fill's detail was 0.55 of the ring's at the montage's scale; a smudge."""
    filled, hole = removed("coffee.jpg", (1800, 1200), (0.72, 0.42, 0.81, 0.62))
    assert detail_ratio(filled, hole, 0.25) >= 0.8
    assert seam_ratio(filled, hole) <= 1.3
