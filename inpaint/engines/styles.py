"""Image filters that give the offline engine's fills the look of the API's styles.

Each filter takes an H×W×3 uint8 RGB picture and returns one of the same shape; the
engine blends it in only inside the painted area. Only numpy and OpenCV are used, and
every filter is deterministic (paper textures come from a fixed seed) so that the
style does not change between the n images of a job: the fill does.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from inpaint.options import STYLE_DEFAULT

PAPER_WHITE = np.array([248, 246, 240], np.float32)
RICE_PAPER = np.array([240, 232, 214], np.float32)
INK_BLACK = np.array([28, 28, 34], np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def paper_texture(height: int, width: int, strength: float) -> np.ndarray:
    """Fibrous paper: fixed-seed noise blurred more along rows than columns, around 1."""
    noise = np.random.default_rng(0).standard_normal((height, width)).astype(np.float32)
    fibres = cv2.GaussianBlur(noise, (0, 0), sigmaX=3.0, sigmaY=1.0)
    return 1 + strength * fibres / (fibres.std() + 1e-6)


def boost_saturation(rgb: np.ndarray, factor: float) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def ink_edges(gray: np.ndarray, block: int, offset: int) -> np.ndarray:
    """1 on drawn outlines, 0 elsewhere, from an adaptive threshold of a denoised image."""
    smooth = cv2.medianBlur(gray, 5)
    lines = cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, offset)
    return (lines == 0).astype(np.float32)


def quantise_colours(rgb: np.ndarray, colours: int) -> np.ndarray:
    """Each pixel replaced by the nearest of ``colours`` k-means centres."""
    samples = rgb.reshape(-1, 3).astype(np.float32)
    # Centres found on a subsample are as good and much faster on big windows.
    step = max(1, samples.shape[0] // 20_000)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(samples[::step], colours, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    distances = ((samples[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return centres[distances.argmin(axis=1)].reshape(rgb.shape)


def local_contrast(gray: np.ndarray) -> np.ndarray:
    """CLAHE: a flat, low-contrast area (a lawn, a wall) still gets its lights and darks."""
    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


def hatching(height: int, width: int, angle: float, spacing: float) -> np.ndarray:
    """Parallel pencil lines at ``angle`` degrees, slightly wavy: 1 on a line, 0 between lines."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    across = np.cos(np.deg2rad(angle)) * cols + np.sin(np.deg2rad(angle)) * rows
    wobble = cv2.GaussianBlur(np.random.default_rng(1).standard_normal((height, width)).astype(np.float32), (0, 0), 8)
    phase = ((across + 6 * wobble) % spacing) / spacing
    return np.clip(1 - 6 * np.abs(phase - 0.5), 0, 1)


def sketch(rgb: np.ndarray) -> np.ndarray:
    """Pencil on paper: outlines from the colour-dodge of the grey image with its blurred
    negative, and layers of cross-hatching where the picture is darker."""
    gray = local_contrast(luminance(rgb)).astype(np.float32)
    blurred_negative = cv2.GaussianBlur(255 - gray, (0, 0), 6)
    outlines = (np.clip(gray * 255 / np.maximum(255 - blurred_negative, 1), 0, 255) / 255) ** 2
    tone = cv2.GaussianBlur(gray, (0, 0), 4) / 255
    height, width = gray.shape
    shading = np.ones_like(gray)
    for angle, darker_than in ((45, 0.75), (-45, 0.5), (0, 0.3)):
        strength = np.clip((darker_than - tone) / 0.2, 0, 1)
        shading *= 1 - 0.55 * strength * hatching(height, width, angle, 7)
    paper = PAPER_WHITE * paper_texture(height, width, 0.02)[..., None]
    return to_uint8(paper * (outlines * shading)[..., None])


def watercolour(rgb: np.ndarray) -> np.ndarray:
    """Soft washes (OpenCV's stylization), lightened as if transparent, on grainy paper."""
    washes = cv2.stylization(rgb, sigma_s=60, sigma_r=0.45).astype(np.float32)
    # Pigment pools at the edges of a wash and leaves them darker.
    pooled = washes * (1 - 0.25 * ink_edges(luminance(rgb), 9, 4)[..., None])
    lightened = 0.8 * pooled + 0.2 * PAPER_WHITE
    return to_uint8(lightened * paper_texture(*rgb.shape[:2], 0.04)[..., None])


def kuwahara(rgb: np.ndarray, radius: int) -> np.ndarray:
    """Each pixel takes the mean of the least varied of its four quadrants: flat
    brush-like patches with sharp edges between them."""
    image = rgb.astype(np.float32)
    gray = luminance(rgb).astype(np.float32)
    size = radius + 1
    means = cv2.blur(image, (size, size), anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    gray_means = cv2.blur(gray, (size, size), anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    gray_variances = cv2.blur(gray * gray, (size, size), anchor=(0, 0), borderType=cv2.BORDER_REFLECT) - gray_means**2
    height, width = gray.shape
    padded_means = np.pad(means, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    padded_variances = np.pad(gray_variances, radius, mode="edge")
    # A box anchored at its top-left corner; the quadrants around a pixel start r rows/columns up or left.
    quadrant_offsets = [(0, 0), (0, radius), (radius, 0), (radius, radius)]
    variances = np.stack([padded_variances[dy : dy + height, dx : dx + width] for dy, dx in quadrant_offsets])
    colours = np.stack([padded_means[dy : dy + height, dx : dx + width] for dy, dx in quadrant_offsets])
    best = variances.argmin(axis=0)
    return np.take_along_axis(colours, best[None, ..., None], axis=0)[0]


def oil_painting(rgb: np.ndarray) -> np.ndarray:
    """Kuwahara patches, richer colour and a light relief of brush strokes."""
    patches = to_uint8(kuwahara(rgb, 5))
    vivid = boost_saturation(patches, 1.3).astype(np.float32)
    gray = luminance(patches).astype(np.float32)
    relief = cv2.Sobel(gray, cv2.CV_32F, 1, 1, ksize=3)
    return to_uint8(vivid + 0.35 * relief[..., None])


def anime(rgb: np.ndarray) -> np.ndarray:
    """Cel shading: smoothed, a few tones per channel, vivid, with black outlines."""
    smooth = rgb
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 9, 60, 9)
    step = 256 / 5
    cels = boost_saturation(to_uint8(np.floor(smooth / step) * step + step / 2), 1.4)
    outlines = ink_edges(luminance(rgb), 9, 6)[..., None]
    return to_uint8(cels * (1 - outlines) + INK_BLACK * outlines)


def flat_illustration(rgb: np.ndarray) -> np.ndarray:
    """Vector-art look: eight flat colours with thin dark lines where they meet."""
    smooth = cv2.bilateralFilter(cv2.medianBlur(rgb, 7), 9, 80, 9)
    flat = quantise_colours(smooth, 8)
    boundaries = cv2.Canny(to_uint8(flat), 1, 1) > 0
    flat[boundaries] = 0.4 * flat[boundaries] + 0.6 * INK_BLACK
    return to_uint8(flat)


def chinese_painting(rgb: np.ndarray) -> np.ndarray:
    """Ink wash on rice paper: graded grey washes where the picture is darker, mid-tones
    left mostly to the paper, and dark brush lines."""
    gray = luminance(cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=40, sigma_r=0.4))
    # Local contrast first, so a flat, low-contrast area still gets light and dark washes.
    tone = local_contrast(gray).astype(np.float32) / 255
    ink = np.clip((0.75 - tone) / 0.6, 0, 1) ** 1.4
    # Washes: ink amounts pulled towards four tones, blurred so the tones bleed.
    washes = cv2.GaussianBlur(np.round(ink * 4) / 4, (0, 0), 3) * 0.9
    strokes = cv2.GaussianBlur(ink_edges(gray, 11, 5), (0, 0), 0.8)
    darkness = np.clip(np.maximum(washes, strokes), 0, 1)[..., None]
    paper = RICE_PAPER * paper_texture(*gray.shape, 0.03)[..., None]
    return to_uint8(paper * (1 - darkness) + INK_BLACK * darkness)


def cartoon_3d(rgb: np.ndarray) -> np.ndarray:
    """Rendered-toy look: smooth plastic surfaces, soft banded shading, vivid colour."""
    smooth = cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=60, sigma_r=0.35)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB).astype(np.float32)
    # Soft toon bands: lightness drawn towards 6 levels, with smooth steps between them.
    levels = lab[..., 0] / 255 * 6
    fraction = levels - np.floor(levels)
    eased = fraction * fraction * (3 - 2 * fraction)
    lab[..., 0] = np.clip((np.floor(levels) + eased) / 6 * 255 * 1.05 + 6, 0, 255)
    lab[..., 1:] = 128 + (lab[..., 1:] - 128) * 1.35
    shaded = cv2.cvtColor(to_uint8(lab), cv2.COLOR_LAB2RGB).astype(np.float32)
    rim = cv2.GaussianBlur(ink_edges(luminance(smooth), 15, 8), (0, 0), 1.2)[..., None]
    return to_uint8(shaded * (1 - 0.5 * rim))


# One for every style of inpaint.options.STYLES but the default (tests/test_options.py checks).
STYLE_FILTERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "<3d cartoon>": cartoon_3d,
    "<anime>": anime,
    "<oil painting>": oil_painting,
    "<watercolor>": watercolour,
    "<sketch>": sketch,
    "<chinese painting>": chinese_painting,
    "<flat illustration>": flat_illustration,
}


def apply_style(rgb: np.ndarray, style: str) -> np.ndarray:
    """The picture filtered to look like ``style``; STYLE_DEFAULT ("<auto>") leaves it as it is."""
    if style == STYLE_DEFAULT:
        return rgb
    try:
        style_filter = STYLE_FILTERS[style]
    except KeyError:
        raise ValueError(f"unknown style {style!r}") from None
    return style_filter(np.ascontiguousarray(rgb))
