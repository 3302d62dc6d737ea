"""Tests of the offline engine on pictures made here (no files, no Django)."""

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFilter

from inpaint.engines import offline
from inpaint.engines.base import JobInput, TaskStatus
from inpaint.engines.offline import OfflineEngine
from inpaint.engines.styles import STYLE_FILTERS

SIDE = 320
ALL_STYLES = ["<auto>", *STYLE_FILTERS]


def textured_picture(height=SIDE, width=SIDE, seed=1):
    """A gradient with stripes, a disc and noise: enough texture for PatchMatch."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 60 + 120 * cols / width + 30 * np.sin(rows / 5)
    green = 80 + 100 * rows / height
    blue = 150 + 50 * np.cos(cols / 9)
    picture = np.stack([red, green, blue], axis=-1) + rng.normal(0, 8, (height, width, 3))
    disc = (rows - 0.3 * height) ** 2 + (cols - 0.7 * width) ** 2 < (0.12 * width) ** 2
    picture[disc] = (230, 200, 40)
    return np.clip(picture, 0, 255).astype(np.uint8)


def square_hole(height=SIDE, width=SIDE):
    hole = np.zeros((height, width), bool)
    hole[height // 3 : height // 2, width // 3 : width // 2] = True
    return hole


def png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def job(picture=None, hole=None, **fields):
    picture = textured_picture() if picture is None else picture
    hole = square_hole(*picture.shape[:2]) if hole is None else hole
    fields.setdefault("size", (picture.shape[1], picture.shape[0]))
    return JobInput(
        base_image=png(picture),
        mask_image=png(hole.astype(np.uint8) * 255),
        base_name="base.png",
        mask_name="mask.png",
        prompt="",
        **fields,
    )


def decoded(result):
    return np.asarray(Image.open(io.BytesIO(result.content)).convert("RGB"))


def far_from(hole, distance):
    """Pixels more than ``distance`` pixels away from the hole."""
    grown = Image.fromarray(hole.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * distance + 1))
    return np.asarray(grown) == 0


def test_is_configured():
    assert OfflineEngine().is_configured()


def test_engine_describes_itself():
    engine = OfflineEngine()
    assert (engine.key, engine.remote, engine.follows_prompt) == ("offline", False, False)


@pytest.mark.parametrize(("region", "sent"), [((640, 480), (640, 480)), ((1024, 300), (1024, 300)),
                                              ((6000, 4000), (1024, 683)), ((1000, 5000), (205, 1024))])
def test_a_region_is_filled_at_its_own_resolution_up_to_the_working_size(region, sent):
    assert OfflineEngine().send_size(*region) == sent


def test_the_fill_has_the_size_it_was_sent_at():
    state = OfflineEngine().submit(job())
    assert state.status == TaskStatus.SUCCEEDED
    assert Image.open(io.BytesIO(state.results[0].content)).size == (textured_picture().shape[1],
                                                                     textured_picture().shape[0])


def test_unmasked_pixels_are_unchanged_at_the_same_size():
    picture, hole = textured_picture(), square_hole()
    filled = decoded(OfflineEngine().submit(job(picture, hole)).results[0])
    assert np.array_equal(filled[~hole], picture[~hole])
    assert np.abs(filled[hole].astype(int) - picture[hole]).mean() > 5


def test_the_pictures_colour_profile_is_carried_to_the_result():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.fromarray(textured_picture()).save(buffer, format="PNG", icc_profile=profile)
    result = OfflineEngine().submit(dataclasses.replace(job(), base_image=buffer.getvalue())).results[0]
    assert Image.open(io.BytesIO(result.content)).info.get("icc_profile") == profile


def test_n_seeds_give_n_different_fills():
    hole = square_hole()
    state = OfflineEngine().submit(job(hole=hole, n=3, seed=10))
    fills = [decoded(result)[hole].astype(int) for result in state.results]
    assert state.image_count == 3 and state.task_metrics == {"TOTAL": 3, "SUCCEEDED": 3, "FAILED": 0}
    for first in range(3):
        for second in range(first + 1, 3):
            assert np.abs(fills[first] - fills[second]).mean() > 2


def test_the_same_seed_gives_the_same_fill():
    first, second = (OfflineEngine().submit(job(seed=4)).results[0].content for _ in range(2))
    assert first == second


@pytest.mark.parametrize("style", ALL_STYLES[1:])
def test_each_style_changes_the_masked_area_and_only_it(style):
    picture, hole = textured_picture(), square_hole()
    plain = decoded(OfflineEngine().submit(job(picture, hole, seed=2)).results[0])
    styled = decoded(OfflineEngine().submit(job(picture, hole, seed=2, style=style)).results[0])
    outside = far_from(hole, 3)
    assert np.array_equal(styled[outside], picture[outside])
    assert np.abs(styled[hole].astype(int) - plain[hole]).mean() > 8


def test_every_api_style_has_a_filter():
    assert set(ALL_STYLES) == {
        "<auto>", "<3d cartoon>", "<anime>", "<oil painting>", "<watercolor>",
        "<sketch>", "<chinese painting>", "<flat illustration>",
    }


def test_a_failing_slot_fails_alone(monkeypatch):
    real_fill = offline.content_aware_fill

    def fill_that_fails_for_seed_8(picture, hole, seed):
        if seed == 8:
            raise RuntimeError("out of memory")
        return real_fill(picture, hole, seed)

    monkeypatch.setattr(offline, "content_aware_fill", fill_that_fails_for_seed_8)
    state = OfflineEngine().submit(job(n=3, seed=7))
    assert state.status == TaskStatus.SUCCEEDED
    assert [result.failed for result in state.results] == [False, True, False]
    assert state.results[1].code == "OfflineEngineError" and "out of memory" in state.results[1].message
    assert state.task_metrics == {"TOTAL": 3, "SUCCEEDED": 2, "FAILED": 1}


def test_a_mask_of_another_size_is_refused_in_plain_words():
    mismatched = job(hole=square_hole(300, 300))
    result = OfflineEngine().submit(mismatched).results[0]
    assert result.failed and "same size" in result.message


def test_the_opencv_fallback_fills_without_patchmatch(monkeypatch):
    monkeypatch.setattr(offline, "patchmatch", None)
    picture, hole = textured_picture(), square_hole()
    filled = offline.content_aware_fill(picture, hole, seed=0)
    assert np.array_equal(filled[~hole], picture[~hole])
    assert OfflineEngine().is_configured()


def test_a_long_stroke_is_cut_into_pieces_and_filled_without_gaps():
    picture = textured_picture()
    stroke = np.zeros((SIDE, SIDE), bool)
    for offset in range(-6, 7):
        diagonal = np.arange(10, SIDE - 10)
        stroke[diagonal, np.clip(diagonal + offset, 0, SIDE - 1)] = True
    rows, cols = np.nonzero(stroke)
    assert len(offline.split_hole(rows, cols, SIDE, SIDE)) > 1
    filled = offline.content_aware_fill(picture, stroke, seed=0)
    assert np.array_equal(filled[~stroke], picture[~stroke])
    assert np.abs(filled[stroke].astype(int) - picture[stroke]).mean() < 60
