"""What the tests of inpaint/images.py share: the limits they call it with, and small encoders and pixel checks."""

from __future__ import annotations

import io

import pillow_heif
from PIL import Image, ImageCms

from tests.pictures import open_image, picture

MB = 1024 * 1024
APP_LIMITS = {"max_bytes": 50 * MB, "max_pixels": 100_000_000, "min_side": 32}
MASK_LIMITS = {"max_bytes": 50 * MB, "max_pixels": 100_000_000}
BASE_SIZE = (640, 480)


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def is_red(pixel) -> bool:
    red, green, blue = pixel[:3]
    return red > 180 and green < 90 and blue < 90


def heic(width: int = 640, height: int = 480) -> bytes:
    image = open_image(picture(width, height, fmt="PNG")).convert("RGB")
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=90)
    return buffer.getvalue()


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode_with(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
