"""Pillow checks and conversions for pictures and masks. Pure Pillow: no ORM, no Django.

Every refusal is an ``ImageRefused`` whose message is one plain sentence naming the limit
and the value found, ready to show to the person who uploaded the file.

Transparency: the painting services take no alpha channel, so a picture with transparent
pixels is flattened onto white for painting, and its alpha is kept apart. Every result gets
that transparency back, made opaque wherever the mask repainted (what was painted there is
new content), and the person is told so. The alpha of the picture is never turned into a
mask; only an uploaded *mask* may use alpha.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "BMP")
OUTPUT_SIZES = ("1024*1024", "720*1280", "1280*720")
# A mask is only a guide for which pixels to repaint, so it may be a scaled copy of the
# picture; aspect ratios closer than this count as "the same shape".
MASK_ASPECT_TOLERANCE = 0.01
MASK_COLOUR_TOLERANCE = 8
JPEG_QUALITY = 95


class ImageRefused(ValueError):
    """A picture or mask that cannot be used, with a message for the person who sent it."""


@dataclass
class PreparedImage:
    content: bytes
    extension: str  # "jpg" or "png"
    width: int
    height: int
    notes: list[str] = field(default_factory=list)
    alpha: bytes | None = None  # the picture's transparency as an 8-bit PNG, for the results


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / (1024 * 1024):.1f} MB"


def check_file_size(n_bytes: int, *, what: str, max_bytes: int) -> None:
    if n_bytes > max_bytes:
        raise ImageRefused(f"The {what} file is {_megabytes(n_bytes)}; the limit is {_megabytes(max_bytes)}.")


def _open_picture(data: bytes, *, what: str, max_bytes: int, max_side: int) -> Image.Image:
    """Open JPEG, PNG or BMP by content and decode it fully, refusing anything unsafe."""
    if not data:
        raise ImageRefused(f"The {what} file is empty.")
    check_file_size(len(data), what=what, max_bytes=max_bytes)
    with warnings.catch_warnings():
        # A decompression bomb must be refused, not merely warned about.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except UnidentifiedImageError:
            raise ImageRefused(_unsupported_format_message(data, what)) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused(f"The {what} has too many pixels to open safely.") from None
        width, height = image.size
        # Checked on the header, before decoding, so huge pictures never reach memory.
        if width > max_side or height > max_side:
            raise ImageRefused(
                f"The {what} is {width} × {height} pixels; each side must be at most {max_side} pixels."
            )
        try:
            image.load()
        except (OSError, SyntaxError, ValueError):
            raise ImageRefused(f"The {what} file is damaged or incomplete and cannot be read.") from None
    return image


def _unsupported_format_message(data: bytes, what: str) -> str:
    try:
        found = Image.open(io.BytesIO(data)).format
    except Exception:  # noqa: BLE001 - any failure just means "not a picture we know"
        found = None
    if found:
        return f"The {what} is a {found} file; please use a JPEG, PNG or BMP picture."
    return f"The {what} file is not a picture (JPEG, PNG or BMP)."


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        return image.getchannel("A").getextrema()[0] < 255
    return image.mode == "P" and "transparency" in image.info


def _flatten_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def prepare_base_image(data: bytes, *, min_side: int, max_side: int, max_bytes: int) -> PreparedImage:
    """Check a picture against an engine's limits and return it upright, ready to store.

    An upright RGB JPEG is kept byte for byte (no second lossy pass). Anything else is
    rotated by its EXIF orientation once and saved as PNG, or JPEG at quality 95 with its
    colour profile when PNG would exceed the size limit.
    """
    image = _open_picture(data, what="picture", max_bytes=max_bytes, max_side=max_side)
    orientation = image.getexif().get(0x0112, 1)
    upright = ImageOps.exif_transpose(image)
    width, height = upright.size
    if not (min_side <= width <= max_side and min_side <= height <= max_side):
        raise ImageRefused(
            f"The picture is {width} × {height} pixels; each side must be between "
            f"{min_side} and {max_side} pixels."
        )
    notes: list[str] = []
    if image.format == "JPEG" and orientation == 1 and image.mode in ("RGB", "L"):
        return PreparedImage(data, "jpg", width, height, notes)

    alpha = None
    if _has_transparency(upright):
        alpha = _encode(upright.convert("RGBA").getchannel("A"), "PNG", None)
        upright = _flatten_on_white(upright)
        notes.append("The picture's transparent areas are painted on white; the results keep the transparency, "
                     "and the area you paint becomes solid.")
    else:
        upright = upright.convert("RGB")
    icc_profile = image.info.get("icc_profile")
    content = _encode(upright, "PNG", icc_profile)
    extension = "png"
    if image.format == "JPEG" or len(content) > max_bytes:
        content, extension = _encode(upright, "JPEG", icc_profile), "jpg"
    if len(content) > max_bytes:
        raise ImageRefused(
            f"The picture is {_megabytes(len(content))} once turned upright; the limit is {_megabytes(max_bytes)}."
        )
    return PreparedImage(content, extension, width, height, notes, alpha)


def with_transparency(content: bytes, *, alpha_png: bytes, solid_png: bytes | None = None) -> bytes:
    """A picture (or a result painted from it) given back the picture's transparency, as a PNG.

    The alpha is resized to the picture (a result may have another output size). Where
    ``solid_png`` is white, the result is made opaque: a mask's repainted area is new content.
    """
    with Image.open(io.BytesIO(content)) as picture:
        icc_profile = picture.info.get("icc_profile")
        opaque = picture.convert("RGB")
    with Image.open(io.BytesIO(alpha_png)) as alpha_image:
        alpha = alpha_image.convert("L")
    if alpha.size != opaque.size:
        alpha = alpha.resize(opaque.size, Image.Resampling.BILINEAR)
    if solid_png is not None:
        with Image.open(io.BytesIO(solid_png)) as solid_image:
            solid = solid_image.convert("L")
        alpha = ImageChops.lighter(alpha, solid.resize(opaque.size, Image.Resampling.BILINEAR))
    opaque.putalpha(alpha)
    return _encode(opaque, "PNG", icc_profile)


def _encode(image: Image.Image, fmt: str, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "JPEG":
        options.update(quality=JPEG_QUALITY, subsampling=0)
    else:
        options.update(optimize=False, compress_level=6)
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _binarise(image: Image.Image, mask_color: list[list[int]]) -> Image.Image:
    """255 where the mask says repaint, 0 elsewhere."""
    if mask_color:
        rgb = image.convert("RGB")
        selected = Image.new("L", rgb.size, 0)
        for red, green, blue in mask_color:
            bands = [
                band.point(lambda v, c=c: 255 if abs(v - c) <= MASK_COLOUR_TOLERANCE else 0)
                for band, c in zip(rgb.split(), (red, green, blue))
            ]
            match = ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])
            selected = ImageChops.lighter(selected, match)
        return selected
    if _has_transparency(image):
        # A painted overlay exported with transparency: painted pixels are the opaque ones.
        return image.convert("RGBA").getchannel("A").point(lambda v: 255 if v >= 128 else 0)
    return image.convert("L").point(lambda v: 255 if v >= 128 else 0)


def prepare_mask(
    data: bytes, *, base_size: tuple[int, int], mask_color: list[list[int]] | None = None, max_bytes: int, max_side: int
) -> bytes:
    """Turn an uploaded mask into the stored form: an 8-bit PNG the picture's size, 255 = repaint."""
    image = ImageOps.exif_transpose(_open_picture(data, what="mask", max_bytes=max_bytes, max_side=max_side))
    mask = _binarise(image, mask_color or [])
    if mask.size != base_size:
        mask = _fit_mask(mask, base_size)
    if mask.getextrema()[1] == 0:
        if mask_color:
            raise ImageRefused(
                "The mask has no pixels of the chosen mask colours; paint the area you want to change "
                "or check the colours."
            )
        raise ImageRefused("The mask is empty: paint the area you want to change.")
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()


def _fit_mask(mask: Image.Image, base_size: tuple[int, int]) -> Image.Image:
    (mask_w, mask_h), (base_w, base_h) = mask.size, base_size
    if abs((mask_w / mask_h) / (base_w / base_h) - 1) > MASK_ASPECT_TOLERANCE:
        raise ImageRefused(
            f"The mask is {mask_w} × {mask_h} pixels but the picture is {base_w} × {base_h}; "
            "the mask must have the picture's shape."
        )
    return mask.resize(base_size, Image.NEAREST)


def parse_size(size: str) -> tuple[int, int]:
    width, height = size.split("*")
    return int(width), int(height)


def closest_output_size(width: int, height: int) -> str:
    """The output size whose shape is nearest the picture's."""
    shape = math.log(width / height)
    return min(OUTPUT_SIZES, key=lambda size: abs(math.log(_aspect(parse_size(size))) - shape))


def _aspect(size: tuple[int, int]) -> float:
    return size[0] / size[1]
