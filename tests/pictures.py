"""Pictures and masks made by the tests themselves (no files shipped, no downloads)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw


def picture(width: int = 640, height: int = 480, *, fmt: str = "JPEG", mode: str = "RGB",
            orientation: int | None = None) -> bytes:
    """A picture with a gradient and a red square at the top-left, so orientation can be checked."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode if mode != "RGBA" else "RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 4, height // 4), fill=(220, 30, 30) if image.mode == "RGB" else 200)
    if mode == "RGBA":
        image = image.convert("RGBA")
        alpha = Image.new("L", image.size, 255)
        ImageDraw.Draw(alpha).rectangle((width // 2, 0, width, height // 2), fill=0)
        image.putalpha(alpha)
    buffer = io.BytesIO()
    options = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def mask(width: int = 640, height: int = 480, *, box: tuple[int, int, int, int] | None = None,
         fmt: str = "PNG", mode: str = "L", fill=255, background=0) -> bytes:
    """A mask with ``box`` (default: the centre quarter) painted."""
    image = Image.new(mode, (width, height), background)
    box = box or (width // 4, height // 4, 3 * width // 4, 3 * height // 4)
    ImageDraw.Draw(image).rectangle(box, fill=fill)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` but holds no pixels: a few bytes that must be refused
    (or accepted) on the header alone, before anything is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def frames(fmt: str, colours=("red", "blue"), size: tuple[int, int] = (64, 48)) -> bytes:
    """A file of several frames, one per colour (animated PNG/WebP/GIF, multi-page TIFF, MPO)."""
    images = [Image.new("RGB", size, colour) for colour in colours]
    buffer = io.BytesIO()
    images[0].save(buffer, fmt, save_all=True, append_images=images[1:], duration=100)
    return buffer.getvalue()



def png_bomb(width: int = 10_000, height: int = 10_000, *, mode: str = "RGBA", orientation: int | None = 6,
             row: bytes | None = None) -> bytes:
    """A few hundred KB of PNG that decodes to ``width`` × ``height`` pixels (transparent black RGBA, turned by
    EXIF, by default: the costliest picture within the app's limits to decode, turn and flatten), or every row
    ``row`` (its pixels' bytes). Made row by row, never in full."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    channels, colour_type = {"L": (1, 0), "RGB": (3, 2), "RGBA": (4, 6)}[mode]
    compressor, line = zlib.compressobj(9), b"\x00" + (row or bytes(channels * width))
    pixels = b"".join(compressor.compress(line) for _ in range(height)) + compressor.flush()
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        header += chunk(b"eXIf", exif.tobytes().removeprefix(b"Exif\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def stored_pixels(field) -> np.ndarray:
    """The RGB pixels of a stored picture (a job's or a result's file field), upright."""
    from inpaint import images  # the app's own reader, as the results were stored with it

    with field.open("rb") as stored:
        return np.asarray(images.open_rgb(stored.read()))
