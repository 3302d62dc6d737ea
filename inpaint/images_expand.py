"""Extending the canvas (outpainting, wanx2.1-imageedit ``expand``): what is sent, and putting the answer together.

The model is sent the whole picture, scaled so that it and what the model makes of it fit the model's sides. What
comes back is the picture with a new border; it is scaled up to the extended picture's size at the photo's own
resolution, and the person's own pixels are laid over the original area, blending into the model's only in a
feathered band just inside each extended edge (the model alters the pixels it was given, so a hard edge would show).
Pure Pillow and numpy: no Django.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from inpaint import images, regions

Scales = Mapping[str, float]  # the four sides' scales by their API names (inpaint.options.EXPAND_SIDES)


@dataclass(frozen=True)
class Expansion:
    """Where a picture of ``width`` × ``height`` lies in its extended canvas of ``new_width`` × ``new_height``."""

    width: int
    height: int
    left: int
    top: int
    new_width: int
    new_height: int

    @property
    def extended(self) -> dict[str, bool]:
        return {"left": self.left > 0, "top": self.top > 0, "right": self.new_width > self.left + self.width,
                "bottom": self.new_height > self.top + self.height}


def expansion_of(size: tuple[int, int], scales: Scales) -> Expansion:
    """The canvas ``expand`` makes of a picture of ``size``: W × (left + right − 1) by H × (top + bottom − 1)."""
    width, height = size
    return Expansion(width, height, left=round(width * (scales["left_scale"] - 1)),
                     top=round(height * (scales["top_scale"] - 1)),
                     new_width=round(width * (scales["left_scale"] + scales["right_scale"] - 1)),
                     new_height=round(height * (scales["top_scale"] + scales["bottom_scale"] - 1)))


def expand_send_size(size: tuple[int, int], scales: Scales,
                     send_size: Callable[[int, int], tuple[int, int]]) -> tuple[int, int]:
    """The size to send the whole picture at: one the engine takes, whose extension the engine would take too
    (the model's largest output is not documented, so it is never counted on past its largest input)."""
    expansion = expansion_of(size, scales)
    factor_x, factor_y = expansion.new_width / expansion.width, expansion.new_height / expansion.height
    output = send_size(expansion.new_width, expansion.new_height)
    return send_size(max(1, round(output[0] / factor_x)), max(1, round(output[1] / factor_y)))


def expand_prepare(picture_bytes: bytes, scales: Scales, *, send_size: Callable[[int, int], tuple[int, int]],
                   max_bytes: int | None, alpha_png: bytes | None = None) -> regions.PreparedRegion:
    """The whole stored picture scaled to what the engine takes, encoded; the region is the whole picture, and
    there is no mask."""
    picture = images.open_rgb(picture_bytes)
    return regions.whole_picture_prepare(picture, expand_send_size(picture.size, scales, send_size),
                                         max_bytes=max_bytes, alpha_png=alpha_png)


def _band_boxes(expansion: Expansion, reach: int) -> list[tuple[int, int, int, int]]:
    """The strips of the original area (in its own pixels) within ``reach`` of an extended edge."""
    width, height = expansion.width, expansion.height
    reach_x, reach_y = min(reach, width), min(reach, height)
    strips = {"left": (0, 0, reach_x, height), "right": (width - reach_x, 0, width, height),
              "top": (0, 0, width, reach_y), "bottom": (0, height - reach_y, width, height)}
    return [strips[side] for side, extended in expansion.extended.items() if extended]


def _edge_distance(expansion: Expansion, box: tuple[int, int, int, int]) -> np.ndarray:
    """Each pixel's distance (as inpaint.regions.feather measures it) from the nearest extended edge."""
    xs = np.arange(box[0], box[2], dtype=np.float32)[np.newaxis, :]
    ys = np.arange(box[1], box[3], dtype=np.float32)[:, np.newaxis]
    far = np.full((box[3] - box[1], box[2] - box[0]), np.inf, dtype=np.float32)
    extended = expansion.extended
    distances = [far] + [distance for side, distance in (("left", xs + 1), ("right", expansion.width - xs),
                                                         ("top", ys + 1), ("bottom", expansion.height - ys))
                         if extended[side]]
    return np.minimum.reduce(np.broadcast_arrays(*distances))


def _model_border(answer: Image.Image, expansion: Expansion, reach: int) -> Image.Image:
    """A canvas of the extended size holding the answer, scaled up, everywhere but the original area's inside
    (beyond ``reach`` of an extended edge), which the photo covers anyway: scaling it too would cost nearly half
    of the work for a 1.5× extension. Bicubic: the answer is only ever enlarged here."""
    new_size = (expansion.new_width, expansion.new_height)
    canvas = Image.new("RGB", new_size)
    extended = expansion.extended
    left = min(expansion.left + (reach if extended["left"] else 0), expansion.left + expansion.width)
    top = min(expansion.top + (reach if extended["top"] else 0), expansion.top + expansion.height)
    right = max(expansion.left + expansion.width - (reach if extended["right"] else 0), left)
    bottom = max(expansion.top + expansion.height - (reach if extended["bottom"] else 0), top)
    scale_x, scale_y = answer.width / new_size[0], answer.height / new_size[1]
    for box in ((0, 0, new_size[0], top), (0, bottom, new_size[0], new_size[1]), (0, top, left, bottom),
                (right, top, new_size[0], bottom)):
        if box[2] > box[0] and box[3] > box[1]:
            source = (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)
            canvas.paste(answer.resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.BICUBIC, box=source),
                         box[:2])
    return canvas


def expand_paste(picture: Image.Image, answer: Image.Image, expansion: Expansion, *, edge_softness: int,
                 shape_tolerance: float | None = None) -> Image.Image:
    """The extended picture: the answer scaled to the full new size, with ``picture`` over its own area, blended
    through a band ``edge_softness`` pixels (plus inpaint.regions.MASK_GROWTH) wide inside each extended edge.

    An answer whose shape is too far from the extension's raises inpaint.regions.ShapeRefused."""
    new_size = (expansion.new_width, expansion.new_height)
    if not regions.same_shape(new_size, answer.size, tolerance=regions.RESULT_SHAPE_TOLERANCE
                              if shape_tolerance is None else shape_tolerance):
        raise regions.ShapeRefused(answer.size, new_size)
    reach = regions.MASK_GROWTH + edge_softness + 1
    canvas = _model_border(answer.convert("RGB"), expansion, reach)
    offset = (expansion.left, expansion.top)
    bands = []
    for box in _band_boxes(expansion, reach):
        placed = (box[0] + offset[0], box[1] + offset[1], box[2] + offset[0], box[3] + offset[1])
        weights = Image.fromarray(regions.feather_weights(_edge_distance(expansion, box), edge_softness), mode="L")
        bands.append((placed[:2], Image.composite(canvas.crop(placed), picture.crop(box), weights)))
    canvas.paste(picture, offset)
    for corner, band in bands:
        canvas.paste(band, corner)
    return canvas


def expand_compose(picture_bytes: bytes, raw: bytes, scales: Scales, *, send_width: int, edge_softness: int,
                   alpha_png: bytes | None = None, scale: float = 1.0,
                   shape_tolerance: float | None = None) -> regions.ComposedResult:
    """The finished extended picture for one answer, at the photo's own resolution (times ``scale``), with its
    colour profile and (over the original area) its transparency, as a lossless PNG and a preview.

    The band spans ``edge_softness`` of the model's pixels, however much larger the photo's are (``send_width``
    is the width the picture was sent at), and never less than one: the seam is never a hard line."""
    picture = images.open_rgb(picture_bytes)
    icc_profile = picture.info.get("icc_profile")
    expansion = expansion_of(picture.size, scales)
    with Image.open(io.BytesIO(raw)) as returned:
        answer = ImageOps.exif_transpose(returned)
        band = round(max(edge_softness, 1) * max(1.0, picture.width / send_width))
        composed = expand_paste(picture, answer, expansion, edge_softness=band, shape_tolerance=shape_tolerance)
    if alpha_png:
        alpha = Image.new("L", composed.size, 255)
        alpha.paste(images.open_mask(alpha_png), (expansion.left, expansion.top))
        composed.putalpha(alpha)
    if scale != 1.0:
        size = (max(1, round(composed.width * scale)), max(1, round(composed.height * scale)))
        composed = composed.resize(size, Image.Resampling.LANCZOS)
    return regions.ComposedResult(images.encode_png(composed, icc_profile=icc_profile), regions.preview(composed),
                                  composed.width, composed.height)
