"""The pieces of the offline fill (issue 18): the pyramid's levels and field, and the boundary blend."""

import cv2
import numpy as np
import pytest

from inpaint.engines import offline_pyramid, offline_seam

SIDE = 256


def textured(seed=3):
    """Fine grain over slow light: detail that a resampled fill loses and a copied one keeps."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    light = 90 + 60 * cols / SIDE + 30 * rows / SIDE
    grain = rng.normal(0, 18, (SIDE, SIDE, 1))
    return np.clip(light[..., None] + grain + np.array([10, 0, -10]), 0, 255).astype(np.uint8)


def centre_hole(size=64):
    hole = np.zeros((SIDE, SIDE), bool)
    start = (SIDE - size) // 2
    hole[start:start + size, start:start + size] = True
    return hole


def smooth_coarse_fill(picture, hole):
    """A structure-only solve, as blurry as a coarse fill is: the detail must come from the pyramid."""
    return cv2.inpaint(picture, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)


def laplacian_variance(picture, where):
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.Laplacian(grey, cv2.CV_32F)[where].var()


def ring(hole, inner, outer):
    outside = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 3)
    return (outside > inner) & (outside <= outer)


def deep_inside(hole, margin):
    return cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3) > margin


@pytest.mark.parametrize("coarsest", [0.2, 0.25, 0.3, 0.6, 1.0])
def test_the_levels_go_up_at_most_twofold_and_end_at_full_size(coarsest):
    scales = offline_pyramid.pyramid_scales(coarsest)
    assert scales[0] == min(1.0, coarsest) and scales[-1] == 1.0
    assert all(finer / coarser <= offline_pyramid.LEVEL_FACTOR + 1e-9 for coarser, finer in zip(scales, scales[1:]))


def test_a_smaller_level_keeps_every_hole_pixel():
    hole = np.zeros((SIDE, SIDE), bool)
    hole[100, 37] = hole[5, 200] = True
    small = offline_pyramid.hole_at(hole, (SIDE // 4, SIDE // 4))
    assert small[100 // 4, 37 // 4] and small[5 // 4, 200 // 4]


def test_the_fill_keeps_the_pictures_detail_when_the_structure_was_solved_small():
    """Issue 18's smudge: a quarter-size fill scaled up had a fifth of the ring's detail."""
    picture, hole = textured(), centre_hole()
    filled = offline_pyramid.pyramid_fill(picture, hole, smooth_coarse_fill, 0.25, np.random.default_rng(0))
    assert np.array_equal(filled.shape, picture.shape)
    detail = laplacian_variance(filled, deep_inside(hole, 2)) / laplacian_variance(filled, ring(hole, 0, 24))
    assert detail >= 0.8


def test_sources_are_never_taken_from_the_hole():
    picture, hole = textured(), centre_hole()
    field = offline_pyramid.field_coarse(picture, hole, np.random.default_rng(1))
    found = np.isfinite(field.cost)
    assert found.all()
    assert not hole[field.sources[:, 0], field.sources[:, 1]].any()
    finer = np.repeat(np.repeat(hole, 2, axis=0), 2, axis=1)
    big = cv2.resize(picture, finer.shape[::-1], interpolation=cv2.INTER_LINEAR)
    refined = offline_pyramid.field_refined(field, finer, big, big, np.random.default_rng(1))
    sources = refined.sources[np.isfinite(refined.cost)]
    inside = (sources >= 0).all(axis=1) & (sources < finer.shape).all(axis=1)
    assert inside.all() and not finer[sources[:, 0], sources[:, 1]].any()


def test_the_blend_makes_a_lighter_fill_meet_its_surroundings_and_keeps_its_texture():
    """A ghost: a fill copied from a lighter part of the picture; the blend removes the step, not the grain."""
    picture, hole = textured(), centre_hole()
    lighter = picture.astype(np.int16)
    lighter[hole] += 40
    lighter = np.clip(lighter, 0, 255).astype(np.uint8)
    blended = offline_seam.seam_blend(picture, lighter, hole)
    assert np.array_equal(blended[~hole], picture[~hole])
    inner_band = hole & ~deep_inside(hole, 6)
    step = np.abs(blended[inner_band].mean(axis=0) - picture[ring(hole, 0, 6)].mean(axis=0)).max()
    assert step < 3
    centre = deep_inside(hole, 8)
    assert laplacian_variance(blended, centre) >= 0.9 * laplacian_variance(lighter, centre)


def test_a_tall_hole_in_a_textured_photo_is_filled_with_its_detail_and_no_lighter_column():
    """The whole fill (PatchMatch for the structure, the pyramid, the blend) on a hole large enough to be
    solved small: the column keeps the grain around it and is neither lighter nor darker than beside it."""
    from inpaint.engines import offline  # noqa: PLC0415 (PatchMatch is loaded only by the tests that use it)

    picture = textured()
    hole = np.zeros((SIDE, SIDE), bool)
    hole[10:246, 100:170] = True
    assert offline.working_scale(int(hole.sum())) < 1.0
    filled = offline.content_aware_fill(picture, hole, seed=0)
    detail = laplacian_variance(filled, deep_inside(hole, 2)) / laplacian_variance(filled, ring(hole, 0, 24))
    assert detail >= 0.8
    grey = cv2.cvtColor(filled, cv2.COLOR_RGB2GRAY).astype(np.float32)
    rows = slice(40, 216)
    column = grey[rows, 100:170].mean()
    beside = np.concatenate([grey[rows, 70:100], grey[rows, 170:200]], axis=1).mean()
    assert abs(column - beside) < 2


def test_the_removed_objects_fringe_around_the_hole_is_never_copied():
    picture, hole = textured(), centre_hole()
    field = offline_pyramid.field_coarse(picture, hole, np.random.default_rng(2))
    rows, cols = field.sources.T
    gap = offline_pyramid.FRINGE
    beside_the_hole = (np.abs(rows - SIDE // 2 + 0.5) < 32 + gap) & (np.abs(cols - SIDE // 2 + 0.5) < 32 + gap)
    assert np.isfinite(field.cost).all() and not beside_the_hole.any()
