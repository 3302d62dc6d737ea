"""Extending the canvas and upscaling (wanx2.1-imageedit function=expand, super_resolution) through the real parts: the form over HTTP, a Celery
worker on Redis, and the DashScope stand-in, whose answer recolours every pixel it was given and continues the
picture's edges into the new border."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint import options, regions
from inpaint.models import InpaintJob
from tests import pictures
from tests.live import Visitor, cloud_worker, wait_succeeded

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_expand_of_half_the_width_each_side_comes_back_twice_as_wide_with_the_photo_unchanged_inside_the_band(
        live_server, dashscope, standin_settings, start_worker):
    cloud_worker(start_worker, dashscope, live_server, beat=False)
    Visitor(live_server).post_job("a beach at dusk", engine="wanx2.1-imageedit",
                                  base=("photo.jpg", pictures.picture(1600, 1000), "image/jpeg"),
                                  function="expand", left_scale="1.5", right_scale="1.5")
    job = wait_succeeded(InpaintJob.objects.get())
    [result] = job.results.all()
    assert (result.width, result.height) == (3200, 1000)

    # The whole picture went, with no mask, and the API's own names for what to do with it.
    [task] = dashscope.tasks.values()
    assert task.input["function"] == "expand" and "mask_image_url" not in task.input
    assert {side: task.parameters[side] for side in ("top_scale", "bottom_scale", "left_scale", "right_scale")} == {
        "top_scale": 1.0, "bottom_scale": 1.0, "left_scale": 1.5, "right_scale": 1.5}

    extended, original = pictures.stored_pixels(result.image), pictures.stored_pixels(job.base_image)
    own_area = extended[:, 800:2400]
    band = regions.MASK_GROWTH + job.edge_softness + 1
    inside = np.s_[:, band:-band]
    assert np.array_equal(own_area[inside], original[inside])  # every pixel beyond the band is the person's own
    # The seam blends over the band: its outermost column is the model's (recoloured), not the photo's.
    assert (own_area[:, 0] != original[:, 0]).any() and (own_area[:, -1] != original[:, -1]).any()
    # The new border is the model's continuation of the edge, not black or mirrored photo.
    assert np.abs(extended[:, :800].astype(int).mean(axis=1) - original[:, 0].astype(int)).mean() < 40


def test_text_taken_out_of_the_painted_area_leaves_every_other_pixel_the_photos_own(
        live_server, dashscope, standin_settings, start_worker):
    """remove_watermark through the real parts: the region goes without its mask and with the API's prompt, and
    although the stand-in recolours all of it, only the painted area changes."""
    cloud_worker(start_worker, dashscope, live_server, beat=False)
    Visitor(live_server).post_job("", engine="wanx2.1-imageedit", base=("photo.jpg", pictures.picture(1200, 800),
                                  "image/jpeg"), mask_png=pictures.mask(1200, 800), function="remove_watermark")
    job = wait_succeeded(InpaintJob.objects.get())
    [result] = job.results.all()
    assert (result.width, result.height) == (1200, 800)
    [task] = dashscope.tasks.values()
    assert task.input["function"] == "remove_watermark" and "mask_image_url" not in task.input
    assert task.input["prompt"] == options.REMOVE_TEXT_PROMPT

    cleaned, original = pictures.stored_pixels(result.image), pictures.stored_pixels(job.base_image)
    painted = (pictures.stored_pixels(job.mask_image) > 0).any(axis=2)
    band = regions.MASK_GROWTH + job.edge_softness + 1
    near = np.zeros_like(painted)
    rows, columns = np.nonzero(painted)
    near[max(rows.min() - band, 0):rows.max() + band + 1, max(columns.min() - band, 0):columns.max() + band + 1] = True
    assert np.array_equal(cleaned[~near], original[~near])  # beyond the painted area and its band: the photo's own
    assert (cleaned[painted] != original[painted]).any()  # inside it, the model's work


def test_an_upscale_by_two_comes_back_twice_as_wide_and_tall_from_the_whole_picture_sent_without_a_mask(
        live_server, dashscope, standin_settings, start_worker):
    """super_resolution through the real parts: no prompt written, no mask painted, and the stand-in's answer at
    twice the size is stored lossless at exactly twice the photo's."""
    cloud_worker(start_worker, dashscope, live_server, beat=False)
    Visitor(live_server).post_job("", engine="wanx2.1-imageedit", base=("photo.jpg", pictures.picture(900, 600),
                                  "image/jpeg"), function="super_resolution", upscale_factor="2")
    job = wait_succeeded(InpaintJob.objects.get())
    [result] = job.results.all()
    assert (result.width, result.height) == (1800, 1200)
    [task] = dashscope.tasks.values()
    assert task.input["function"] == "super_resolution" and "mask_image_url" not in task.input
    assert task.input["prompt"] == options.UPSCALE_PROMPT and task.parameters["upscale_factor"] == 2
    upscaled, original = pictures.stored_pixels(result.image), pictures.stored_pixels(job.base_image)
    # The picture itself, larger: scaled back down it is close to the photo (the stand-in recolours a little).
    smaller = np.asarray(Image.fromarray(upscaled).resize((900, 600), Image.Resampling.BOX))
    assert np.abs(smaller.astype(int) - original.astype(int)).mean() < 40
