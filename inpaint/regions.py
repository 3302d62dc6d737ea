"""The work region: the part of the picture an engine is sent, and putting what it paints back.

People bring photos of any size and shape; the models take a few sizes and shapes. So the
engine never sees the whole photo: it gets the painted area's bounding box with context
around it, expanded to the shape of the output the model will make, kept inside the picture
(mirror-padded only when it cannot fit, never stretched) and scaled to the size the engine
takes. What comes back is scaled to the region again and composited into the full-resolution
original through the mask, grown a little and feathered, so every pixel beyond that band is
the person's own pixel. Pure Pillow, numpy and OpenCV: no Django.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
from PIL import Image, ImageOps

from inpaint import images
from inpaint.options import EDGE_SOFTNESS_MAX

# Context around the painted area (inpaint.options.CONTEXTS): a share of its bounding box's longest side, at least a
# number of pixels, and a smallest region side. "normal" gives the cloud model enough of the
# scene to paint something that belongs there, even for a small mask on a big photo.
CONTEXT_MARGIN_SHARE = {"little": 0.15, "normal": 0.5}
CONTEXT_MARGIN_MIN = {"little": 24, "normal": 96}
CONTEXT_MIN_SIDE = {"little": 256, "normal": 512}
# The painted area is grown by this many pixels before feathering, so the model's edge (which
# may drift by a pixel or two after scaling) is covered.
MASK_GROWTH = 3
# An engine may round the size it returns (to a multiple of 8 or 16, say); a shape this close to the
# region's is that rounding, not a different picture.
RESULT_SHAPE_TOLERANCE = 0.02
PREVIEW_SIDE = 2048
PREVIEW_QUALITY = 85


@dataclass(frozen=True)
class Region:
    """A rectangle in upright picture pixels, right and bottom exclusive; it may reach past the picture."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def inside(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """The part of the region that lies inside a picture of this size, as a box."""
        return max(self.left, 0), max(self.top, 0), min(self.right, size[0]), min(self.bottom, size[1])

    def to_json(self) -> dict:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}

    @classmethod
    def from_json(cls, data: dict) -> Region:
        return cls(data["left"], data["top"], data["right"], data["bottom"])


def _nearest_shape(width: float, height: float, shapes: Sequence[tuple[int, int]]) -> float:
    aspect = math.log(width / height)
    best = min(shapes, key=lambda shape: abs(math.log(shape[0] / shape[1]) - aspect))
    return best[0] / best[1]


def _span(centre: float, length: int, limit: int) -> tuple[int, int]:
    """A span of ``length`` around ``centre``, shifted to lie within 0..limit; centred on it when too long."""
    if length >= limit:
        start = (limit - length) // 2
    else:
        start = min(max(round(centre - length / 2), 0), limit - length)
    return start, start + length


def region_choose(mask: Image.Image, *, context: str, shapes: Sequence[tuple[int, int]] | None = None,
                  min_side: int = 0, max_aspect: float | None = None, edge: int = 0) -> Region:
    """The work region for a mask (mode L, the picture's size, 255 = repaint).

    ``shapes`` are the output sizes the model makes (None: it keeps any shape); the region
    takes the one nearest its own shape by growing its shorter side. ``min_side`` grows a small
    region (within the picture where it can) so the engine is not sent less than it takes;
    ``max_aspect`` (long side over short side) grows the short side of a long thin region so an
    engine with a smallest and a largest side can take it without stretching; ``edge`` keeps the
    feathered band inside the region.
    """
    width, height = mask.size
    box = mask.getbbox()
    if box is None:
        raise ValueError("the mask is empty")
    if context == "whole":
        left, top, right, bottom = 0, 0, width, height
    else:
        left, top, right, bottom = box
        longest = max(right - left, bottom - top)
        margin = max(round(CONTEXT_MARGIN_SHARE[context] * longest), CONTEXT_MARGIN_MIN[context], edge)
        left, top, right, bottom = left - margin, top - margin, right + margin, bottom + margin
        min_side = max(min_side, CONTEXT_MIN_SIDE[context])
    # A small region grows to the smallest side, within the picture: a picture smaller than the
    # engine takes is scaled up on sending rather than padded.
    region_w = min(max(right - left, min_side), width)
    region_h = min(max(bottom - top, min_side), height)
    if max_aspect:
        region_w = max(region_w, math.ceil(region_h / max_aspect))
        region_h = max(region_h, math.ceil(region_w / max_aspect))
    if shapes:
        target = _nearest_shape(region_w, region_h, shapes)
        if region_w / region_h < target:
            region_w = round(region_h * target)
        else:
            region_h = round(region_w / target)
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    left, right = _span(centre_x, region_w, width)
    top, bottom = _span(centre_y, region_h, height)
    return Region(left, top, right, bottom)


def region_inputs(picture: Image.Image, mask: Image.Image, region: Region,
                  send_size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """The region of the picture (RGB) and of the mask (pure 0/255), both scaled to ``send_size``,
    which must have the region's shape: nothing is ever stretched. Where the region reaches past
    the picture, the picture is mirrored and the mask is black.

    Both are scaled straight out of the full-size images (no full-size crop or padding is made, so a
    "whole picture" region of a 48 MP photo costs no extra copy of it) and padded at the sent size.
    """
    if not same_shape((region.width, region.height), send_size, tolerance=0.0):
        raise ValueError(f"a {region.width} × {region.height} region cannot be sent at {send_size[0]} × {send_size[1]}")
    inner = region.inside(picture.size)
    scale_x, scale_y = send_size[0] / region.width, send_size[1] / region.height
    placed = (round((inner[0] - region.left) * scale_x), round((inner[1] - region.top) * scale_y),
              round((inner[2] - region.left) * scale_x), round((inner[3] - region.top) * scale_y))
    size = (placed[2] - placed[0], placed[3] - placed[1])
    # Shrinking the mask, any covered pixel stays painted, so a thin stroke is never lost.
    shrinking = size[0] < inner[2] - inner[0]
    crop = _scaled(picture if picture.mode == "RGB" else picture.convert("RGB"), inner, size,
                   Image.Resampling.LANCZOS)
    crop_mask = _scaled(mask, inner, size, Image.Resampling.BOX if shrinking else Image.Resampling.NEAREST)
    crop_mask = crop_mask.point([0] + [255] * 255 if shrinking else [0] * 128 + [255] * 128)
    pads = (placed[0], placed[1], send_size[0] - placed[2], send_size[1] - placed[3])
    return _padded(crop, pads, mirror=True), _padded(crop_mask, pads, mirror=False)


def _scaled(image: Image.Image, box: tuple[int, int, int, int], size: tuple[int, int],
            resample: Image.Resampling) -> Image.Image:
    if size == (box[2] - box[0], box[3] - box[1]):
        return image.crop(box)
    return image.resize(size, resample, box=box)


def _padded(image: Image.Image, pads: tuple[int, int, int, int], *, mirror: bool) -> Image.Image:
    """The image with (left, top, right, bottom) pixels added: its own edge mirrored, or black."""
    if not any(pads):
        return image
    array = np.asarray(image)
    widths = [(pads[1], pads[3]), (pads[0], pads[2])] + [(0, 0)] * (array.ndim - 2)
    padded = np.pad(array, widths, mode="symmetric") if mirror else np.pad(array, widths, mode="constant")
    return Image.fromarray(padded, mode=image.mode)


def feather(mask: Image.Image, edge_softness: int) -> Image.Image:
    """How much of the painted result each pixel takes: 255 inside the mask grown by MASK_GROWTH,
    falling smoothly to 0 over ``edge_softness`` pixels beyond it, and 0 everywhere further out."""
    outside = (np.asarray(mask) < 128).astype(np.uint8)
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return Image.fromarray(feather_weights(distance, edge_softness), mode="L")


def feather_weights(distance: np.ndarray, edge_softness: int) -> np.ndarray:
    """The painted result's share (0..255) of a pixel ``distance`` pixels from the painted area (0 inside it)."""
    ramp = np.clip(1.0 - (distance - MASK_GROWTH) / max(edge_softness, 1), 0.0, 1.0)
    if edge_softness == 0:
        ramp = (distance <= MASK_GROWTH).astype(np.float32)
    smooth = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no visible line where the band starts or ends
    return np.rint(smooth * 255).astype(np.uint8)


class ShapeRefused(ValueError):
    """An engine's answer whose shape is too far from the region's to be scaled to it."""

    def __init__(self, returned: tuple[int, int], region: tuple[int, int]):
        super().__init__(f"the engine returned {returned[0]} × {returned[1]} for a {region[0]} × {region[1]} region; "
                         "pasting it back would stretch it")
        self.returned, self.region = returned, region


def paste_back(picture: Image.Image, mask: Image.Image, region: Region, result: Image.Image, *,
               edge_softness: int, shape_tolerance: float | None = None) -> Image.Image:
    """The picture (RGB, changed in place and returned) with the engine's result composited in
    through the feathered mask.

    Only the painted area and its band are touched: the result is scaled back to the region's
    size for that box alone (a "whole picture" region of a 100 MP photo is never scaled or
    blended in full), and every pixel outside the band is the picture's own. A result whose shape differs
    from the region's by more than ``shape_tolerance`` (default: an engine's rounding) raises ShapeRefused.
    """
    tolerance = RESULT_SHAPE_TOLERANCE if shape_tolerance is None else shape_tolerance
    if not same_shape((region.width, region.height), result.size, tolerance=tolerance):
        raise ShapeRefused(result.size, (region.width, region.height))
    box = _band_box(mask, region.inside(picture.size), MASK_GROWTH + edge_softness + 1)
    if box is None:
        return picture
    scale_x, scale_y = result.width / region.width, result.height / region.height
    source = ((box[0] - region.left) * scale_x, (box[1] - region.top) * scale_y,
              (box[2] - region.left) * scale_x, (box[3] - region.top) * scale_y)
    painted = result.convert("RGB").resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS, box=source)
    blend = feather(mask.crop(box), edge_softness)
    # The caller's picture is painted in place: a second full-size copy of a 100 MP photo is 300 MB.
    picture.paste(Image.composite(painted, picture.crop(box).convert("RGB"), blend), box[:2])
    return picture


def _band_box(mask: Image.Image, inner: tuple[int, int, int, int], reach: int) -> tuple[int, int, int, int] | None:
    """The box of the painted area inside ``inner``, grown by ``reach`` and kept within ``inner``."""
    painted = mask.crop(inner).getbbox()
    if painted is None:
        return None
    left, top, right, bottom = (inner[0] + painted[0], inner[1] + painted[1], inner[0] + painted[2],
                                inner[1] + painted[3])
    return (max(inner[0], left - reach), max(inner[1], top - reach), min(inner[2], right + reach),
            min(inner[3], bottom + reach))


def same_shape(size: tuple[int, int], other: tuple[int, int], *, tolerance: float) -> bool:
    """Whether two sizes have one shape, allowing a pixel of rounding at the smaller of them and a
    share ``tolerance`` on top (an engine may round the size it returns)."""
    (width, height), (other_width, other_height) = size, other
    smaller = min(size + other)
    return abs(width * other_height - height * other_width) <= max(width * other_height, height * other_width) * (
        tolerance + 1 / smaller)


@dataclass(frozen=True)
class PreparedRegion:
    """What an engine is sent for a job: the region's picture and mask, encoded, and a preview of the picture."""

    region: Region
    send_size: tuple[int, int]
    image: bytes
    image_extension: str
    mask: bytes
    preview: bytes

    @property
    def region_json(self) -> dict:
        return {**self.region.to_json(), "send_width": self.send_size[0], "send_height": self.send_size[1]}


def region_prepare(picture_bytes: bytes, mask_png: bytes, *, context: str, shapes: Sequence[tuple[int, int]] | None,
                   min_side: int, send_size: Callable[[int, int], tuple[int, int]], max_bytes: int | None,
                   alpha_png: bytes | None = None, max_aspect: float | None = None) -> PreparedRegion:
    """Cut the work region out of the stored (upright) picture and scale it to what the engine takes."""
    picture, mask = images.open_rgb(picture_bytes), images.open_mask(mask_png)
    choose = partial(region_choose, mask, context=context, min_side=min_side, max_aspect=max_aspect,
                     edge=MASK_GROWTH + EDGE_SOFTNESS_MAX)
    region = choose(shapes=shapes)
    size = send_size(region.width, region.height)
    if not same_shape((region.width, region.height), size, tolerance=0.0):
        # An engine that keeps any shape may still round the size it is sent at (Qwen: to multiples of 16):
        # the region grows to that size's own shape, so nothing is stretched on the way.
        region = choose(shapes=(size,))
    crop, crop_mask = region_inputs(picture, mask, region, size)
    image, extension = images.encode_png(crop), "png"
    if max_bytes and len(image) > max_bytes:
        image, extension = images.encode_jpeg(crop), "jpg"
    return PreparedRegion(region, size, image, extension, images.encode_png(crop_mask),
                          preview(picture, alpha_png=alpha_png))


def whole_picture_prepare(picture: Image.Image, size: tuple[int, int], *, max_bytes: int | None,
                          alpha_png: bytes | None = None) -> PreparedRegion:
    """What a function that is sent the whole picture (and no mask) gets: ``picture`` scaled to ``size``, encoded;
    the region is the whole picture."""
    sent = picture if size == picture.size else picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    image, extension = images.encode_png(sent), "png"
    if max_bytes and len(image) > max_bytes:
        image, extension = images.encode_jpeg(sent), "jpg"
    # The preview is made from the sent picture when it is near its size: from the full photo it costs a second pass.
    return PreparedRegion(Region(0, 0, *picture.size), size, image, extension, b"",
                          preview(sent if max(size) >= PREVIEW_SIDE else picture, alpha_png=alpha_png))


def preview(picture: Image.Image, *, alpha_png: bytes | None = None) -> bytes:
    """A WebP of at most PREVIEW_SIDE a side for the page, with the picture's transparency if it has any."""
    # Scaled straight from the picture (a copy to scale in place would be a second full-size picture);
    # reducing_gap: a fast integer reduction first, then a proper filter over the last steps.
    scale = min(1.0, PREVIEW_SIDE / max(picture.size))
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    small = picture.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0) if scale < 1 else picture.copy()
    if alpha_png:
        small.putalpha(images.open_mask(alpha_png).resize(small.size, Image.Resampling.BILINEAR))
    buffer = io.BytesIO()
    small.save(buffer, "WEBP", quality=PREVIEW_QUALITY, method=2)
    return buffer.getvalue()


@dataclass(frozen=True)
class ComposedResult:
    png: bytes
    preview: bytes
    width: int
    height: int


def result_compose(picture_bytes: bytes, mask_png: bytes, region: Region, raw: bytes, *, edge_softness: int,
                   alpha_png: bytes | None = None, scale: float = 1.0,
                   shape_tolerance: float | None = None) -> ComposedResult:
    """The finished picture for one result: pasted back at full resolution, the picture's
    transparency and colour profile restored, scaled if asked, as a lossless PNG and a preview."""
    picture, mask = images.open_rgb(picture_bytes), images.open_mask(mask_png)
    icc_profile = picture.info.get("icc_profile")
    with Image.open(io.BytesIO(raw)) as returned:
        result = ImageOps.exif_transpose(returned).convert("RGB")
    composed = paste_back(picture, mask, region, result, edge_softness=edge_softness, shape_tolerance=shape_tolerance)
    if alpha_png:
        composed = images.with_alpha(composed, alpha_png=alpha_png, solid=mask)
    if scale != 1.0:
        size = (max(1, round(composed.width * scale)), max(1, round(composed.height * scale)))
        composed = composed.resize(size, Image.Resampling.LANCZOS)
    return ComposedResult(images.encode_png(composed, icc_profile=icc_profile), preview(composed),
                          composed.width, composed.height)
