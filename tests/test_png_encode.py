"""inpaint/png_encode.py: the banded, many-core PNG writer gives back exactly the pixels it was given."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from inpaint import png_encode


def noise(mode: str, size: tuple[int, int], seed: int = 1) -> Image.Image:
    channels = len(Image.new(mode, (1, 1)).getbands())
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode)


def idat(png: bytes) -> bytes:
    """The joined IDAT data of a PNG, so zlib itself (not only Pillow) checks the stream and its Adler-32."""
    position, data = 8, b""
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        if kind == b"IDAT":
            data += png[position + 8:position + 8 + length]
        position += 12 + length
    return data


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (1, 300), (300, 1), (257, 199)])
@pytest.mark.parametrize("band_bytes", [1, 1000, png_encode.BAND_BYTES])
def test_every_pixel_comes_back_in_any_banding(monkeypatch, mode, size, band_bytes):
    monkeypatch.setattr(png_encode, "BAND_BYTES", band_bytes)
    image = noise(mode, size)

    png = png_encode.png_encode(image, None, level=1)

    decoded = Image.open(io.BytesIO(png))
    assert (decoded.format, decoded.mode, decoded.size) == ("PNG", mode, size)
    assert decoded.tobytes() == image.tobytes()
    width = size[0] * len(image.getbands())
    assert len(zlib.decompress(idat(png))) == size[1] * (1 + width)


def test_the_colour_profile_is_written():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    png = png_encode.png_encode(noise("RGB", (64, 48)), profile, level=1)

    assert Image.open(io.BytesIO(png)).info["icc_profile"] == profile
