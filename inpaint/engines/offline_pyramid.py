"""Coarse-to-fine refinement of a fill: from a structure solved at a small size to real detail.

PatchMatch is too slow to solve a large hole at the work region's own resolution, and scaling
a small fill back up smudges it (the detail of a photo cannot be made up by resampling). So,
as PatchMatch-based content-aware fill does, the fill is carried up a pyramid as a
*nearest-neighbour field*: for every hole pixel, the known pixel its colour is copied from.

* At the coarsest level the field is searched (PatchMatch: propagation from neighbours and a
  random search at shrinking radii) so that each hole pixel's patch matches the coarse fill.
* At each finer level the field is scaled up, then improved by one propagation and a small
  random search, comparing the coarser level's fill (scaled up) with the picture blurred to
  the same detail, so that structure comes from above and detail from the picture itself.
* The fill at every level is a copy of known pixels of that level, never a resampled one.

Sources are only ever known pixels: nothing from the hole nor from a thin fringe around it, so
the removed object (and its outline) is never copied back. A small cost for distance keeps sources
near the hole when two match alike; at the coarsest level a cost for reuse keeps many pixels from
copying one smooth patch.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Patches compared at the coarsest level, (2 * radius + 1)² pixels: 5 × 5 recognises texture.
COARSE_PATCH_RADIUS = 2
# The finer levels compare 3 × 3 patches: the scaled-up field only needs checking there, and a
# full-resolution level has up to ~20x more hole pixels than the coarsest one.
FINE_PATCH_RADIUS = 1
# PatchMatch iterations at the coarsest level; each propagates and searches at every radius.
COARSE_ITERATIONS = 4
# Radii of the random search at the finer levels, where the scaled-up field is already close.
REFINE_RADII = (3, 1)
# Cost of a source's distance, per pixel of the level, in squared colour error per channel:
# a clearly better match always wins, and of two alike the nearer one does.
DISTANCE_COST = 0.05
# Cost of a source, at the coarsest level, for each other target that already copies it, in the
# same units. The coarse fill is PatchMatch's average of patches, which a smooth patch matches best,
# so without it many targets copy the same few pixels and the grain is lost (a textured photo kept
# 0.78 of its ring's detail, 0.81 with it). The finer levels compare alike-blurred pictures and
# keep the field carried up; charging there too made smooth backdrops speckled (bench: chelsea-ear
# 4.4× its ring's detail).
REUSE_COST = 20.0
# Pixels around the hole, at each level, that are never copied.
FRINGE = 1
# Each level is at most this much finer than the one before.
LEVEL_FACTOR = 2.0
# Hole pixels whose patches are compared in one go: bounds the temporary arrays to a few MB.
CHUNK = 32_768

_STEPS = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])


def pyramid_scales(coarsest: float) -> list[float]:
    """The scales the fill visits, coarse to fine, each at most LEVEL_FACTOR finer; the last is 1."""
    scales = [min(1.0, coarsest)]
    while scales[-1] < 1.0:
        scales.append(min(1.0, scales[-1] * LEVEL_FACTOR))
    return scales


def level_size(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
    """(width, height) of the level at ``scale`` of a picture of this shape."""
    height, width = shape[:2]
    return max(8, round(width * scale)), max(8, round(height * scale))


def picture_at(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if picture.shape[1::-1] == size:
        return picture
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def hole_at(hole: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The hole at another size, set wherever any of its pixels was set, so no hole pixel is lost."""
    if hole.shape[::-1] == size:
        return hole
    return cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0


class Matcher:
    """Patch distances between a guide (what the fill should look like) and the known pixels.

    The targets stay the same for a whole level, so their guide patches are gathered once; every
    offer then gathers only the candidate sources' patches, by flat index into the padded picture.
    """

    def __init__(self, guide: np.ndarray, source: np.ndarray, known: np.ndarray, radius: int, targets: np.ndarray):
        pad = ((radius, radius), (radius, radius), (0, 0))
        # Kept in the pictures' own uint8: padding a full-resolution level as float32 cost more than
        # converting only the gathered patches.
        self.source = np.pad(source, pad, mode="edge").reshape(-1, source.shape[2])
        self.known = known
        self.padded_width = known.shape[1] + 2 * radius
        span = np.arange(2 * radius + 1)
        rows, cols = np.meshgrid(span, span, indexing="ij")
        self.patch = (rows * self.padded_width + cols).ravel()
        padded_guide = np.pad(guide, pad, mode="edge").reshape(-1, guide.shape[2])
        self.targets = targets
        # uint8 too: as float32 the targets' patches of a 24 MP region's hole took 25 MB more peak memory.
        self.here = padded_guide[self.flat(targets)[:, None] + self.patch]

    def flat(self, pixels: np.ndarray) -> np.ndarray:
        """Index of each (row, column)'s patch corner in the flattened padded picture."""
        return pixels[:, 0] * self.padded_width + pixels[:, 1]

    def usable(self, sources: np.ndarray) -> np.ndarray:
        """Sources that are known pixels of the level (never the hole, never off the picture)."""
        height, width = self.known.shape
        rows, cols = sources[:, 0], sources[:, 1]
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        usable = inside.copy()
        usable[inside] = self.known[rows[inside], cols[inside]]
        return usable

    def cost(self, sources: np.ndarray) -> np.ndarray:
        """Mean squared colour error of each target's patch against its source's, plus the distance cost;
        inf when the source is not usable."""
        cost = np.full(len(sources), np.inf, np.float32)
        for start in range(0, len(sources), CHUNK):
            part = slice(start, start + CHUNK)
            s = sources[part]
            usable = self.usable(s)
            s = s[usable]
            difference = self.here[part][usable].astype(np.float32) - self.source[self.flat(s)[:, None] + self.patch]
            error = np.einsum("ijk,ijk->i", difference, difference) / difference[0].size
            distance = np.hypot(*(self.targets[part][usable] - s).T.astype(np.float32))
            cost[start:start + CHUNK][usable] = error + DISTANCE_COST * distance
        return cost


@dataclass
class Field:
    """A level's nearest-neighbour field: hole pixel ``targets[i]`` copies known pixel ``sources[i]``."""

    targets: np.ndarray  # N × 2 (row, column)
    sources: np.ndarray  # N × 2 (row, column)
    index: np.ndarray  # the level's shape: the number of each hole pixel, -1 elsewhere
    cost: np.ndarray | None = None
    reuse_cost: float = 0.0  # charged per other target copying the same source (REUSE_COST)

    @classmethod
    def of_hole(cls, hole: np.ndarray, sources: np.ndarray) -> Field:
        targets = np.argwhere(hole)
        index = np.full(hole.shape, -1, np.int64)
        index[targets[:, 0], targets[:, 1]] = np.arange(len(targets))
        return cls(targets, sources, index)

    def uses(self) -> np.ndarray:
        """How many targets copy each pixel of the level, by flat index."""
        height, width = self.index.shape
        return np.bincount(self.flat(self.sources), minlength=height * width)

    def flat(self, sources: np.ndarray) -> np.ndarray:
        """Flat index of each source, clipped into the level (a source off it costs inf anyway)."""
        height, width = self.index.shape
        return np.clip(sources[:, 0], 0, height - 1) * width + np.clip(sources[:, 1], 0, width - 1)

    def offer(self, matcher: Matcher, candidates: np.ndarray) -> None:
        """Take each candidate source (N × 2) that matches better than the current one.

        A source already copied by others is charged ``reuse_cost`` for each of them, so that ties
        spread over the picture instead of piling on one smooth patch.
        """
        cost = matcher.cost(candidates)
        if self.cost is None:
            self.sources, self.cost = candidates, cost
            return
        uses = self.uses()
        crowded = cost + self.reuse_cost * uses[self.flat(candidates)]
        better = crowded < self.cost + self.reuse_cost * (uses[self.flat(self.sources)] - 1)
        self.sources[better] = candidates[better]
        self.cost[better] = cost[better]

    def search(self, matcher: Matcher, radii, rng: np.random.Generator) -> None:
        """One PatchMatch iteration: each pixel is offered its neighbours' sources (shifted back by the
        step between them), then random sources around its own at each radius."""
        for step in _STEPS:
            rows = np.clip(self.targets[:, 0] + step[0], 0, self.index.shape[0] - 1)
            cols = np.clip(self.targets[:, 1] + step[1], 0, self.index.shape[1] - 1)
            neighbour = self.index[rows, cols]
            candidates = self.sources.copy()
            has = neighbour >= 0
            candidates[has] = self.sources[neighbour[has]] - step
            self.offer(matcher, candidates)
        for radius in radii:
            self.offer(matcher, self.sources + rng.integers(-radius, radius + 1, self.sources.shape))

    def offsets(self) -> np.ndarray:
        """The field as a picture of (row, column) offsets, zero outside the hole."""
        offsets = np.zeros((*self.index.shape, 2), np.float32)
        offsets[self.targets[:, 0], self.targets[:, 1]] = self.sources - self.targets
        return offsets


def sources_of(hole: np.ndarray) -> np.ndarray:
    """The pixels a level may copy: the known ones but for a fringe around the hole, which is the
    removed object's own edge (its halo, its shadow, the anti-aliased outline the mask missed)."""
    return ~cv2.dilate(hole.astype(np.uint8), np.ones((2 * FRINGE + 1,) * 2, np.uint8)).astype(bool)


def search_radii(shape: tuple[int, ...]) -> list[int]:
    """Halving radii from the level's size down to one pixel."""
    radius, radii = max(shape[:2]), []
    while radius >= 1:
        radii.append(radius)
        radius //= 2
    return radii


def field_coarse(filled: np.ndarray, hole: np.ndarray, rng: np.random.Generator) -> Field:
    """Where in the known pixels each patch of a coarse fill came from (a PatchMatch search)."""
    known = np.argwhere(sources_of(hole))
    field = Field.of_hole(hole, known[rng.integers(0, len(known), int(hole.sum()))])
    matcher = Matcher(filled, filled, sources_of(hole), COARSE_PATCH_RADIUS, field.targets)
    field.reuse_cost = REUSE_COST
    field.offer(matcher, field.sources)
    radii = search_radii(hole.shape)
    for _ in range(COARSE_ITERATIONS):
        field.search(matcher, radii, rng)
    return field


def field_refined(coarse: Field, hole: np.ndarray, guide: np.ndarray, source: np.ndarray,
                  rng: np.random.Generator) -> Field:
    """The field of the next finer level: offsets scaled up from the coarser one, then improved by
    matching ``guide`` (what the fill should look like) against ``source`` (the known pixels)."""
    offsets = coarse.offsets()
    ratio = np.array(hole.shape, np.float32) / offsets.shape[:2]
    # Nearest neighbour keeps offsets whole: an interpolated offset would point between two sources.
    scaled = cv2.resize(offsets, hole.shape[::-1], interpolation=cv2.INTER_NEAREST) * ratio
    targets = np.argwhere(hole)
    field = Field.of_hole(hole, targets + np.rint(scaled[targets[:, 0], targets[:, 1]]).astype(np.int64))
    matcher = Matcher(guide, source, sources_of(hole), FINE_PATCH_RADIUS, field.targets)
    field.offer(matcher, field.sources)
    field.search(matcher, REFINE_RADII, rng)
    return field


def field_copy(field: Field, picture: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """The picture with each hole pixel copied from its source (or from ``fallback`` when it has none)."""
    filled = picture.copy()
    found = np.isfinite(field.cost)
    targets, sources = field.targets, field.sources
    filled[targets[found, 0], targets[found, 1]] = picture[sources[found, 0], sources[found, 1]]
    filled[targets[~found, 0], targets[~found, 1]] = fallback[targets[~found, 0], targets[~found, 1]]
    return filled


def pyramid_fill(picture: np.ndarray, hole: np.ndarray, coarse_fill, coarsest: float,
                 rng: np.random.Generator) -> np.ndarray:
    """The hole filled at the picture's own resolution.

    ``coarse_fill(picture, hole)`` solves the structure at the coarsest scale; every finer level
    copies known pixels of its own size along a field carried up from there.
    """
    scales = pyramid_scales(coarsest)
    size = level_size(picture.shape, scales[0])
    level_hole = hole_at(hole, size)
    filled = coarse_fill(picture_at(picture, size), level_hole)
    if len(scales) == 1 or level_hole.all():
        return cv2.resize(filled, picture.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    field = field_coarse(filled, level_hole, rng)
    for scale in scales[1:]:
        coarser_size = size
        size = picture.shape[1::-1] if scale == 1.0 else level_size(picture.shape, scale)
        level, level_hole = picture_at(picture, size), hole_at(hole, size)
        # Known pixels blurred to the coarser level's detail, so that they compare fairly with the
        # coarser fill scaled up: the match is on structure, the copy brings this level's detail.
        blurred = cv2.resize(picture_at(level, coarser_size), size, interpolation=cv2.INTER_LINEAR)
        guide = np.where(level_hole[..., None], cv2.resize(filled, size, interpolation=cv2.INTER_LINEAR), blurred)
        field = field_refined(field, level_hole, guide, blurred, rng)
        filled = field_copy(field, level, guide)
    return filled
