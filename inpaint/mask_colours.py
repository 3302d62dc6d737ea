"""Picking the repaint region out of a coloured mask by its listed colours. Pure numpy and Pillow."""

from __future__ import annotations

import numpy as np
from PIL import Image

from inpaint.options import MASK_COLOUR_TOLERANCE

# Pixels looked up at a time: the lookups make 16-bit copies, which at 100 MP would be 200 MB each.
BAND_PIXELS = 4 * 1024 * 1024


def mask_colours_select(rgb: Image.Image, mask_color: list[list[int]]) -> Image.Image:
    """255 where a pixel is within MASK_COLOUR_TOLERANCE of any listed colour, 0 elsewhere, as an L image.

    Per channel, a table gives each value a bit for every colour that value is near; a pixel is
    selected when one colour's bit is set in all three of its channels. One pass however many
    colours are listed, band by band of rows.
    """
    values = np.arange(256)
    tables = np.zeros((3, 256), dtype=np.uint16)
    for bit, colour in enumerate(mask_color):
        for channel in range(3):
            tables[channel] |= (np.abs(values - colour[channel]) <= MASK_COLOUR_TOLERANCE).astype(np.uint16) << bit
    selected = Image.new("L", rgb.size, 0)
    band_rows = max(1, BAND_PIXELS // rgb.width)
    for top in range(0, rgb.height, band_rows):
        pixels = np.asarray(rgb.crop((0, top, rgb.width, min(rgb.height, top + band_rows))))
        hits = tables[0][pixels[..., 0]]
        hits &= tables[1][pixels[..., 1]]
        hits &= tables[2][pixels[..., 2]]
        selected.paste(Image.fromarray(np.where(hits != 0, np.uint8(255), np.uint8(0)), mode="L"), (0, top))
    return selected
