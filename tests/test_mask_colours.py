from __future__ import annotations

import numpy as np
from PIL import Image

from inpaint import mask_colours


def test_colours_are_selected_alike_across_bands(monkeypatch):
    monkeypatch.setattr(mask_colours, "BAND_PIXELS", 7 * 5)  # five rows a band, the last one short
    pixels = np.random.default_rng(1).integers(0, 256, (23, 7, 3), dtype=np.uint8)
    pixels[::3, ::2] = (134, 134, 134)
    selected = np.asarray(mask_colours.mask_colours_select(Image.fromarray(pixels, "RGB"), [[134, 134, 134], [0, 0, 0]]))
    expected = np.zeros((23, 7), dtype=bool)
    for colour in ([134, 134, 134], [0, 0, 0]):
        expected |= (np.abs(pixels.astype(int) - colour) <= mask_colours.MASK_COLOUR_TOLERANCE).all(axis=2)
    assert (selected == np.where(expected, 255, 0)).all()
