"""A batch's one mask on every photo: a photo of the first one's shape takes it scaled (as any mask of the
picture's shape is, in images.prepare_mask); one of another shape takes it stretched to its own sides, when
the person chose that, so the mask keeps its place relative to the picture."""

from __future__ import annotations

from PIL import Image

from inpaint.images import MASK_ASPECT_TOLERANCE, encode_png, open_mask


def shape_matches(size: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether two sizes have one shape, within the tolerance a mask of the picture's shape is allowed."""
    (width, height), (other_width, other_height) = size, other
    return abs((width / height) / (other_width / other_height) - 1) <= MASK_ASPECT_TOLERANCE


def mask_stretch(mask_png: bytes, size: tuple[int, int]) -> bytes:
    """The stored mask stretched to ``size``, nearest-neighbour, so it stays pure black and white."""
    return encode_png(open_mask(mask_png).resize(size, Image.Resampling.NEAREST))
