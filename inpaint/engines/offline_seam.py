"""Colour and light made continuous across the edge of a fill (a gradient-domain blend).

A fill copied from elsewhere in the picture can be a little lighter or darker, or warmer, than
the place it fills (the sky darkens upwards, a table is lit from one side), and the eye sees that
as a ghost of the removed object. The fill keeps its own gradients (its texture) but is shifted
by a smooth correction: along the hole's edge the correction is the difference between the
local mean just outside and just inside, and inside the hole it is the harmonic (membrane)
interpolation of those edge values, the solution of Laplace's equation that Poisson blending
adds to the fill.
"""

from __future__ import annotations

import cv2
import numpy as np

# Width of the bands whose means are compared on each side of the edge (Gaussian sigma, pixels):
# wide enough to average out texture, narrow enough to follow changes of light along the edge.
BAND_SIGMA = 3.0
# Jacobi sweeps of the Laplace solve at each level of its pyramid; coarser levels give the start.
SWEEPS = 24
# The Laplace solve starts from a coarser solution while the picture is larger than this.
SMALLEST_LEVEL = 24
_AVERAGE_OF_NEIGHBOURS = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)


def band_mean(values: np.ndarray, band: np.ndarray) -> np.ndarray:
    """The Gaussian-weighted mean of ``values`` over the pixels of ``band``, at every pixel."""
    weight = cv2.GaussianBlur(band.astype(np.float32), (0, 0), BAND_SIGMA)
    total = cv2.GaussianBlur(values * band[..., None], (0, 0), BAND_SIGMA)
    return total / np.maximum(weight, 1e-6)[..., None]


def membrane(values: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """The smoothest field (harmonic) that equals ``values`` where ``fixed`` is set.

    Solved by Jacobi sweeps, started from the solution of a half-size problem, so that smooth
    parts (which Jacobi sweeps are slow to carry far) come from the coarser level.
    """
    height, width = fixed.shape
    if max(height, width) > SMALLEST_LEVEL:
        half = (max(1, width // 2), max(1, height // 2))
        weight = cv2.resize(fixed.astype(np.float32), half, interpolation=cv2.INTER_AREA)
        summed = cv2.resize(values * fixed[..., None], half, interpolation=cv2.INTER_AREA)
        coarse_fixed = weight > 0
        coarse_values = summed / np.maximum(weight, 1e-6)[..., None]
        start = cv2.resize(membrane(coarse_values, coarse_fixed), (width, height), interpolation=cv2.INTER_LINEAR)
    else:
        start = np.broadcast_to(values[fixed].mean(axis=0), values.shape).astype(np.float32)
    field = np.where(fixed[..., None], values, start.reshape(values.shape))
    for _ in range(SWEEPS):
        field = np.where(fixed[..., None], values, cv2.filter2D(field, -1, _AVERAGE_OF_NEIGHBOURS,
                                                                borderType=cv2.BORDER_REPLICATE))
    return field


def seam_blend(picture: np.ndarray, filled: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``filled`` with its hole shifted so that its edge meets the known pixels around it.

    Only the hole's pixels change. A hole with nothing known around it is left as it is.
    """
    if hole.all() or not hole.any():
        return filled
    margin = int(4 * BAND_SIGMA) + 2
    rows, cols = np.nonzero(hole)
    top, left = max(0, rows.min() - margin), max(0, cols.min() - margin)
    bottom, right = min(hole.shape[0], rows.max() + margin + 1), min(hole.shape[1], cols.max() + margin + 1)
    box = slice(top, bottom), slice(left, right)
    inside = hole[box]
    known = picture[box].astype(np.float32)
    fill = filled[box].astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    edge = inside & ~cv2.erode(inside.astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE).astype(bool)
    step = band_mean(known, ~inside) - band_mean(fill, inside)
    correction = membrane(np.where(edge[..., None], step, 0).astype(np.float32), edge)
    result = filled.copy()
    blended = np.clip(np.rint(fill + correction), 0, 255).astype(np.uint8)
    result[box][inside] = blended[inside]
    return result
