"""Upscaling (wanx2.1-imageedit ``super_resolution``): what is sent, and the finished picture.

The model is sent the whole picture and answers with it ``factor`` times wider and taller. The model's largest
output is not documented, so its answer is never counted on past its largest input side: a picture goes whole
when factor × its longer side fits that side. A picture shorter than the model's shortest side is first scaled
up to it, and the answer is brought to exactly factor × the photo's own size. Pure Pillow: no Django.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from inpaint import images, regions


class UpscaleRefused(ValueError):
    """The picture cannot be upscaled this far in one piece: ``largest`` is the longest side that can."""

    def __init__(self, largest: int):
        super().__init__(largest)
        self.largest = largest


def upscale_size(size: tuple[int, int], factor: int) -> tuple[int, int]:
    """The finished picture's size: the photo's own, ``factor`` times."""
    return size[0] * factor, size[1] * factor


def upscale_send_size(size: tuple[int, int], factor: int, *, min_side: int, max_side: int) -> tuple[int, int]:
    """The size the whole picture is sent at: its own, or scaled up until its shorter side is ``min_side``;
    raises UpscaleRefused when the model's answer, ``factor`` times that, would pass ``max_side``."""
    width, height = size
    scale = max(1.0, min_side / min(width, height))
    sent = (max(min_side, round(width * scale)), max(min_side, round(height * scale)))
    if max(sent) * factor > max_side:
        raise UpscaleRefused(max(1, round(max_side / factor / scale)))
    return sent


def upscale_prepare(picture_bytes: bytes, factor: int, *, min_side: int, max_side: int, max_bytes: int | None,
                    alpha_png: bytes | None = None) -> regions.PreparedRegion:
    """The whole stored picture at the size it is sent at, encoded; there is no mask."""
    picture = images.open_rgb(picture_bytes)
    size = upscale_send_size(picture.size, factor, min_side=min_side, max_side=max_side)
    return regions.whole_picture_prepare(picture, size, max_bytes=max_bytes, alpha_png=alpha_png)


def upscale_compose(picture_bytes: bytes, raw: bytes, factor: int, *, alpha_png: bytes | None = None,
                    shape_tolerance: float | None = None) -> regions.ComposedResult:
    """The finished picture for one answer: exactly ``factor`` times the photo's size, with its colour profile and
    its transparency (scaled smoothly), as a lossless PNG and a preview.

    An answer whose shape is too far from the photo's raises inpaint.regions.ShapeRefused."""
    picture = images.open_rgb(picture_bytes)
    icc_profile = picture.info.get("icc_profile")
    size = upscale_size(picture.size, factor)
    with Image.open(io.BytesIO(raw)) as returned:
        answer = ImageOps.exif_transpose(returned).convert("RGB")
    if not regions.same_shape(size, answer.size, tolerance=regions.RESULT_SHAPE_TOLERANCE
                              if shape_tolerance is None else shape_tolerance):
        raise regions.ShapeRefused(answer.size, size)
    # The answer is the model's own work: it is only brought to the exact size, never sharpened again.
    upscaled = answer if answer.size == size else answer.resize(size, Image.Resampling.LANCZOS)
    if alpha_png:
        upscaled.putalpha(images.open_mask(alpha_png).resize(size, Image.Resampling.BICUBIC))
    return regions.ComposedResult(images.encode_png(upscaled, icc_profile=icc_profile), regions.preview(upscaled),
                                  upscaled.width, upscaled.height)
