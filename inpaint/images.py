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
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pillow_heif
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

# HEIC/HEIF is what phones write; pillow-heif's wheels carry libheif, nothing is downloaded.
pillow_heif.register_heif_opener()

# What people may bring, recognised by content. Pillow's JPEG opener also reads the JPEGs some
# phones write with extra frames, and names them MPO.
ACCEPTED_FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF", "HEIF")
ACCEPTED_NAMES = "JPEG, PNG, WebP, HEIC, TIFF or BMP"
# A mask is only a guide for which pixels to repaint, so it may be a scaled copy of the
# picture; aspect ratios closer than this count as "the same shape".
MASK_ASPECT_TOLERANCE = 0.01
MASK_COLOUR_TOLERANCE = 8
MAX_MASK_COLOURS = 16
JPEG_QUALITY = 95
# Stored pictures and results are lossless PNG; level 1 is several times faster than the
# default on photos for a few per cent more bytes, which matters at 24-100 MP.
PNG_COMPRESS_LEVEL = 1


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


def _open_picture(data: bytes, *, what: str, max_bytes: int, max_pixels: int) -> Image.Image:
    """Open a picture by content and decode it fully, refusing anything unsafe or unusable.

    The pixel limit is checked on the header, before decoding, so a huge or forged picture
    never reaches memory; Pillow's own bomb check is set to the same limit for this call.
    """
    if not data:
        raise ImageRefused(f"The {what} file is empty.")
    check_file_size(len(data), what=what, max_bytes=max_bytes)
    image = _open_lazily(data, what)
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRefused(f"The {what} has {width * height / 1e6:.1f} megapixels ({width} × {height}); "
                           f"the limit is {max_pixels / 1e6:g} megapixels.")
    if getattr(image, "is_animated", False) and image.format != "MPO":
        raise ImageRefused(f"The {what} is animated; please use a still picture ({ACCEPTED_NAMES}).")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRefused(f"The {what} file is damaged or incomplete and cannot be read.") from None
    return image


def _open_lazily(data: bytes, what: str) -> Image.Image:
    """Read the header only; Pillow's own bomb limit is refused in plain words like ours."""
    try:
        return Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise ImageRefused(_unsupported_format_message(data, what)) from None
    except Image.DecompressionBombError:
        raise ImageRefused(f"The {what} has too many megapixels to open safely.") from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRefused(f"The {what} file is damaged or incomplete and cannot be read.") from None


def _unsupported_format_message(data: bytes, what: str) -> str:
    try:
        found = Image.open(io.BytesIO(data)).format
    except Exception:  # noqa: BLE001 - any failure just means "not a picture we know"
        found = None
    if found:
        return f"The {what} is a {found} file; please use a {ACCEPTED_NAMES} picture."
    return f"The {what} file is not a picture we can read ({ACCEPTED_NAMES})."


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        return image.getchannel("A").getextrema()[0] < 255
    return image.mode == "P" and "transparency" in image.info


def _flatten_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def prepare_base_image(data: bytes, *, max_bytes: int, max_pixels: int, min_side: int) -> PreparedImage:
    """Check a picture against the app's own limits and return it upright, ready to store.

    An upright RGB JPEG is kept byte for byte. A turned JPEG is turned once and encoded once,
    as a JPEG at quality 95 with its colour profile (no second lossy pass beyond that one).
    Any other format is stored as a lossless PNG.
    """
    image = _open_picture(data, what="picture", max_bytes=max_bytes, max_pixels=max_pixels)
    orientation = image.getexif().get(0x0112, 1)
    is_jpeg = image.format in ("JPEG", "MPO")
    upright = ImageOps.exif_transpose(image)
    width, height = upright.size
    if min(width, height) < min_side:
        raise ImageRefused(f"The picture is {width} × {height} pixels; each side must be at least {min_side} pixels.")
    notes: list[str] = []
    if is_jpeg and orientation == 1 and image.mode in ("RGB", "L") and image.format == "JPEG":
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
    if is_jpeg:
        return PreparedImage(_encode(upright, "JPEG", icc_profile), "jpg", width, height, notes, alpha)
    return PreparedImage(_encode(upright, "PNG", icc_profile), "png", width, height, notes, alpha)


def picture_preview(data: bytes, *, max_side: int, max_bytes: int, max_pixels: int) -> tuple[bytes, int, int]:
    """An upright JPEG of at most ``max_side`` a side, and the picture's full upright width and height.

    For the editor: browsers cannot show HEIC or TIFF, and should not decode 48 MP in full.
    A JPEG is decoded at a reduced scale straight away (``draft``), so this stays cheap.
    """
    check_file_size(len(data), what="picture", max_bytes=max_bytes)
    image = _open_lazily(data, "picture")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRefused(f"The picture has {width * height / 1e6:.1f} megapixels ({width} × {height}); "
                           f"the limit is {max_pixels / 1e6:g} megapixels.")
    orientation = image.getexif().get(0x0112, 1)
    if image.format in ("JPEG", "MPO"):
        image.draft("RGB", (max_side, max_side))
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError):
        raise ImageRefused("The picture file is damaged or incomplete and cannot be read.") from None
    full_width, full_height = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    rgb = _flatten_on_white(upright) if _has_transparency(upright) else upright.convert("RGB")
    buffer = io.BytesIO()
    rgb.save(buffer, "JPEG", quality=90)
    return buffer.getvalue(), full_width, full_height


def open_rgb(data: bytes) -> Image.Image:
    """A stored (upright, opaque) picture, decoded as RGB; its colour profile stays in ``info``."""
    with Image.open(io.BytesIO(data)) as image:
        icc_profile = image.info.get("icc_profile")
        rgb = image.convert("RGB")
    if icc_profile:
        rgb.info["icc_profile"] = icc_profile
    return rgb


def open_mask(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("L")


def encode_png(image: Image.Image, *, icc_profile: bytes | None = None) -> bytes:
    return _encode(image, "PNG", icc_profile or image.info.get("icc_profile"))


def encode_jpeg(image: Image.Image) -> bytes:
    return _encode(image.convert("RGB"), "JPEG", image.info.get("icc_profile"))


def picture_extension(content: bytes) -> str | None:
    """The file extension of a picture an engine returned, or None when it is not a readable picture."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
            return {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "BMP": "bmp"}.get(image.format)
    except Exception:  # noqa: BLE001 - anything that is not a readable picture
        return None


def result_as_jpeg(png_bytes: bytes) -> bytes:
    """A finished picture as a JPEG at quality 95 for photos: transparency flattened on white, profile kept."""
    with Image.open(io.BytesIO(png_bytes)) as image:
        icc_profile = image.info.get("icc_profile")
        rgb = _flatten_on_white(image) if _has_transparency(image) else image.convert("RGB")
    return _encode(rgb, "JPEG", icc_profile)


def with_alpha(picture: Image.Image, *, alpha_png: bytes, solid: Image.Image | None = None) -> Image.Image:
    """The picture given back the original transparency, opaque wherever ``solid`` (the mask) repainted:
    what was painted there is new content."""
    alpha = open_mask(alpha_png)
    if alpha.size != picture.size:
        alpha = alpha.resize(picture.size, Image.Resampling.BILINEAR)
    if solid is not None:
        alpha = ImageChops.lighter(alpha, solid.resize(picture.size, Image.Resampling.BILINEAR))
    rgba = picture.convert("RGBA")
    rgba.putalpha(alpha)
    rgba.info.update(picture.info)
    return rgba


def with_transparency(content: bytes, *, alpha_png: bytes) -> bytes:
    """A stored picture given back its transparency, as a PNG (how the page shows and reuses it)."""
    picture = open_rgb(content)
    return encode_png(with_alpha(picture, alpha_png=alpha_png))


def _encode(image: Image.Image, fmt: str, icc_profile: bytes | None) -> bytes:
    if fmt == "PNG" and image.mode in _PNG_COLOUR_TYPES:
        return _png(image, icc_profile)
    buffer = io.BytesIO()
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "JPEG":
        options.update(quality=JPEG_QUALITY, subsampling=0)
    else:
        options.update(optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


# A lossless PNG of a 24-100 MP photo is the slowest thing a result costs: zlib is one thread
# in Pillow. Here the rows get PNG's "Up" filter in numpy and the deflate stream is made in
# pieces on every core (each piece ends on a full flush, so they join into one valid stream,
# as pigz does). Same bytes per pixel as Pillow at level 1, in half the time on 2 cores.
_PNG_COLOUR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}
_PNG_PIECES = 8


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(image: Image.Image, icc_profile: bytes | None) -> bytes:
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    rows = np.empty((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 0] = 2  # each row stored as its difference from the row above ("Up")
    rows[0, 0] = 0
    rows[0, 1:] = pixels[0].reshape(-1)
    np.subtract(pixels[1:], pixels[:-1], out=rows[1:, 1:].reshape(height - 1, width, channels), casting="unsafe")
    del pixels
    data = memoryview(rows).cast("B")
    step = -(-len(data) // _PNG_PIECES)
    starts = range(0, len(data), step)

    def deflate(start: int) -> bytes:
        compressor = zlib.compressobj(PNG_COMPRESS_LEVEL, zlib.DEFLATED, -15)
        last = start + step >= len(data)
        return compressor.compress(data[start:start + step]) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pieces = [b"\x78\x01", *pool.map(deflate, starts), struct.pack(">I", zlib.adler32(data))]
    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[image.mode], 0, 0, 0)))
    if icc_profile:
        out.write(_png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile)))
    # The IDAT chunk is written piece by piece, its CRC carried along, so the stream is never joined.
    out.write(struct.pack(">I", sum(len(piece) for piece in pieces)) + b"IDAT")
    crc = zlib.crc32(b"IDAT")
    for piece in pieces:
        out.write(piece)
        crc = zlib.crc32(piece, crc)
    out.write(struct.pack(">I", crc))
    out.write(_png_chunk(b"IEND", b""))
    return out.getvalue()


def _binarise(image: Image.Image, mask_color: list[list[int]]) -> Image.Image:
    """255 where the mask says repaint, 0 elsewhere."""
    if mask_color:
        # One vectorised pass per colour over the pixels; the form allows at most MAX_MASK_COLOURS.
        rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
        selected = np.zeros(rgb.shape[:2], dtype=bool)
        for colour in mask_color:
            selected |= (np.abs(rgb - np.array(colour, dtype=np.int16)) <= MASK_COLOUR_TOLERANCE).all(axis=2)
        return Image.fromarray(selected.astype(np.uint8) * 255, mode="L")
    if _has_transparency(image):
        # A painted overlay exported with transparency: painted pixels are the opaque ones.
        return image.convert("RGBA").getchannel("A").point(lambda v: 255 if v >= 128 else 0)
    return image.convert("L").point(lambda v: 255 if v >= 128 else 0)


def prepare_mask(data: bytes, *, base_size: tuple[int, int], mask_color: list[list[int]] | None = None,
                 max_bytes: int, max_pixels: int) -> bytes:
    """Turn an uploaded mask into the stored form: an 8-bit PNG the picture's size, 255 = repaint.

    The mask may be a scaled copy of the picture's shape (the editor paints on a proxy of a big
    photo); it is scaled to the picture nearest-neighbour and stays pure black and white.
    """
    if len(mask_color or []) > MAX_MASK_COLOURS:
        raise ImageRefused(f"The mask names {len(mask_color)} mask colours; at most {MAX_MASK_COLOURS} are allowed.")
    image = ImageOps.exif_transpose(_open_picture(data, what="mask", max_bytes=max_bytes, max_pixels=max_pixels))
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
    return _encode(mask, "PNG", None)


def _fit_mask(mask: Image.Image, base_size: tuple[int, int]) -> Image.Image:
    (mask_w, mask_h), (base_w, base_h) = mask.size, base_size
    if abs((mask_w / mask_h) / (base_w / base_h) - 1) > MASK_ASPECT_TOLERANCE:
        raise ImageRefused(
            f"The mask is {mask_w} × {mask_h} pixels but the picture is {base_w} × {base_h}; "
            "the mask must have the picture's shape."
        )
    return mask.resize(base_size, Image.Resampling.NEAREST)
